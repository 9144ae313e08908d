"""Wall-clock time of every notebook, executed top to bottom in a fresh kernel (nothing stored).

    python benchmarks/notebook_times.py                      # every notebook under chapters/
    python benchmarks/notebook_times.py chapters/05_code/*.ipynb

The book's budget is about a minute per notebook on 2 CPU cores. Kernel start-up is included,
as a reader pays it too. Notebooks run exactly as ``tools/regenerate_outputs.py`` runs them,
under the numerics profile ``BOOK_NUMERICS`` names (default portable; ``native`` times the
libraries' fastest paths); set ``BOOK_DEVICE=cuda`` to time the GPU path.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from regenerate_outputs import book_notebooks, execute  # noqa: E402

from helpers.runtime import apply_numerics_profile  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    args = parser.parse_args()
    notebooks = args.notebooks or book_notebooks()
    print(f"numerics profile: {apply_numerics_profile()}", flush=True)
    total = 0.0
    for path in notebooks:
        _, seconds = execute(path.resolve())
        total += seconds
        print(f"{seconds:7.1f} s  {path.resolve().relative_to(ROOT)}", flush=True)
    print(f"{total:7.1f} s  total, {len(notebooks)} notebooks")


if __name__ == "__main__":
    main()
