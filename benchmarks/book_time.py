"""Time and peak memory of every notebook, each executed in a fresh kernel (nothing stored).

    python benchmarks/book_time.py                      # every notebook under chapters/
    python benchmarks/book_time.py chapters/05_code/*.ipynb

The book's budget on 2 CPU cores: the whole book within 10 minutes, no notebook over 2
minutes, no kernel over 4 GB of resident memory. Kernel start-up is included, as a reader
pays it too. Notebooks run exactly as ``tools/regenerate_outputs.py`` runs them, under the
numerics profile ``BOOK_NUMERICS`` names (default portable; ``native`` times the libraries'
fastest paths); set ``BOOK_DEVICE=cuda`` to time the GPU path.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from regenerate_outputs import book_notebooks, execute  # noqa: E402

from helpers.runtime import apply_numerics_profile  # noqa: E402

BOOK_SECONDS, NOTEBOOK_SECONDS, NOTEBOOK_MB = 600, 120, 4000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    args = parser.parse_args()
    notebooks = args.notebooks or book_notebooks()
    print(f"numerics profile: {apply_numerics_profile()}; {os.cpu_count()} CPUs", flush=True)
    print(f"{'seconds':>8} {'peak MB':>8}  notebook")
    total, over = 0.0, []
    for path in notebooks:
        run = execute(path.resolve())
        total += run.seconds
        name = path.resolve().relative_to(ROOT)
        print(f"{run.seconds:8.1f} {run.peak_memory_mb:8.0f}  {name}", flush=True)
        if run.seconds > NOTEBOOK_SECONDS or run.peak_memory_mb > NOTEBOOK_MB:
            over.append(str(name))
    print(f"{total:8.1f} {'':8}  total, {len(notebooks)} notebooks")
    if total > BOOK_SECONDS:
        over.append(f"the book ({total:.0f} s)")
    print("over budget: " + ", ".join(over) if over else "within budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
