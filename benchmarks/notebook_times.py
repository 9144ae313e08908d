"""Wall-clock time of every notebook, executed top to bottom in a fresh kernel (nothing stored).

    python benchmarks/notebook_times.py                      # every notebook under chapters/
    python benchmarks/notebook_times.py chapters/05_code/*.ipynb

The book's budget is about a minute per notebook on 2 CPU cores. Kernel start-up is included,
as a reader pays it too. Set ``BOOK_DEVICE=cuda`` to time the GPU path.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]


def execute(path: Path, timeout: int = 1200) -> float:
    """Run one notebook in its own folder; return the seconds it took."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    args = parser.parse_args()
    notebooks = args.notebooks or sorted(
        p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )
    total = 0.0
    for path in notebooks:
        seconds = execute(path.resolve())
        total += seconds
        print(f"{seconds:7.1f} s  {path.resolve().relative_to(ROOT)}", flush=True)
    print(f"{total:7.1f} s  total, {len(notebooks)} notebooks")


if __name__ == "__main__":
    main()
