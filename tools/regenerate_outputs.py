"""Re-execute notebooks and store their outputs exactly as `pytest --nbval` will see them.

Usage (from the repository root):

    python tools/regenerate_outputs.py                 # every notebook under chapters/
    python tools/regenerate_outputs.py chapters/04_training/01_training_process.ipynb

Each notebook runs top to bottom in a fresh kernel, in its own folder, on the CPU, under the
portable numerics profile of ``helpers.runtime`` (``BOOK_NUMERICS``, default portable), so that
the stored outputs are the same bits on any x86-64 CPU (a GPU run is checked with
``--nbval-rtol``), with the kernel's C-level output
capture off, because under pytest ipykernel stops capturing it (TensorFlow's C++ log lines
would otherwise be stored here and missing there). Streams are then merged and carriage
returns resolved as nbval does, so a progress bar is stored as its final line.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbval.plugin import coalesce_streams

from helpers.runtime import apply_numerics_profile

ROOT = Path(__file__).resolve().parents[1]
KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False", "--HistoryManager.hist_file=:memory:"]


def book_notebooks() -> list[Path]:
    """Every notebook under chapters/, in order (checkpoints excluded)."""
    return sorted(
        p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def execute(path: Path, timeout: int = 1200) -> tuple[nbformat.NotebookNode, float]:
    """Run one notebook top to bottom in a fresh kernel, in its own folder.

    Returns the executed notebook (not written) and the seconds it took.
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=KERNEL_ARGS,
        record_timing=False,
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def regenerate(path: Path, timeout: int = 1200) -> float:
    """Execute one notebook in place; return the seconds it took."""
    nb, seconds = execute(path, timeout)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = coalesce_streams(cell.outputs)
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nbformat.write(nb, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    args = parser.parse_args()
    notebooks = args.notebooks or book_notebooks()
    os.environ.update(BOOK_DEVICE="cpu", CUDA_VISIBLE_DEVICES="")
    print(f"numerics profile: {apply_numerics_profile()}", flush=True)
    for path in notebooks:
        seconds = regenerate(path.resolve())
        print(f"{path}: {seconds:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
