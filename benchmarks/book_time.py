"""Time and peak memory of every notebook, each executed in a fresh kernel, and the whole `pytest`.

    python benchmarks/book_time.py                      # every notebook, then `pytest`
    python benchmarks/book_time.py chapters/05_code/*.ipynb --no-pytest
    python benchmarks/book_time.py --no-notebooks       # `pytest` beside the status table's sum

The book's budget on 2 CPU cores: the README's whole `pytest` (unit, browser and notebook tests,
the notebooks in parallel) within 10 minutes, no notebook over 2 minutes, no kernel over 4 GB of
resident memory. The notebooks run one after another here, so their sum is printed beside the
`pytest` wall time; with ``--no-notebooks`` the sum is that of ``data/notebook_status.csv``
(written by the last regeneration). Kernel start-up is included, as a reader
pays it too. Notebooks run exactly as ``tools/regenerate_outputs.py`` runs them, under the
numerics profile ``BOOK_NUMERICS`` names (default portable; ``native`` times the libraries'
fastest paths); set ``BOOK_DEVICE=cuda`` to time the GPU path.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from regenerate_outputs import STATUS_FILE, book_notebooks, execute  # noqa: E402

from helpers.runtime import apply_numerics_profile  # noqa: E402

BOOK_SECONDS, NOTEBOOK_SECONDS, NOTEBOOK_MB = 600, 120, 4000


def time_notebooks(notebooks: list[Path], over: list[str]) -> float:
    """Run each notebook in a fresh kernel, print its time and peak memory; return the sum."""
    print(f"{'seconds':>8} {'peak MB':>8}  notebook")
    total = 0.0
    for path in notebooks:
        run = execute(path.resolve())
        total += run.seconds
        name = path.resolve().relative_to(ROOT)
        print(f"{run.seconds:8.1f} {run.peak_memory_mb:8.0f}  {name}", flush=True)
        if run.seconds > NOTEBOOK_SECONDS or run.peak_memory_mb > NOTEBOOK_MB:
            over.append(str(name))
    print(f"{total:8.1f} {'':8}  sum, {len(notebooks)} notebooks one after another")
    return total


def status_table_sum() -> float:
    """The sum of notebook seconds in the status table (the last regeneration's times)."""
    with STATUS_FILE.open(newline="") as f:
        return next(
            float(row["seconds"]) for row in csv.DictReader(f) if row["notebook"] == "total"
        )


def time_pytest() -> tuple[float, int]:
    """Run the README's test command, `pytest`, in the repository; its wall time and status."""
    start = time.perf_counter()
    status = subprocess.run([sys.executable, "-m", "pytest", "-q"], cwd=ROOT).returncode
    return time.perf_counter() - start, status


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    parser.add_argument("--no-notebooks", action="store_true", help="only the whole `pytest`")
    parser.add_argument("--no-pytest", action="store_true", help="only the notebooks")
    args = parser.parse_args()
    print(f"numerics profile: {apply_numerics_profile()}; {os.cpu_count()} CPUs", flush=True)
    over: list[str] = []
    if args.no_notebooks:
        notebook_sum, source = status_table_sum(), STATUS_FILE.relative_to(ROOT)
    else:
        notebook_sum = time_notebooks(args.notebooks or book_notebooks(), over)
        source = "measured here"
    if not args.no_pytest:
        seconds, status = time_pytest()
        print(
            f"pytest: {seconds:.0f} s wall ({'passed' if status == 0 else 'FAILED'}), beside "
            f"{notebook_sum:.0f} s for the notebooks one after another ({source})"
        )
        if seconds > BOOK_SECONDS:
            over.append(f"pytest ({seconds:.0f} s)")
        if status != 0:
            over.append("pytest failed")
    print("over budget: " + ", ".join(over) if over else "within budget")
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())
