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

Each run's time and the kernel's peak memory are written to ``data/notebook_status.csv``
(one row per notebook, rows of notebooks not re-run are kept), which the book's status page
renders.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import multiprocessing
import os
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple

import nbformat
import numerics_fingerprint
import psutil
from nbclient import NotebookClient
from nbval.plugin import coalesce_streams

from helpers.runtime import apply_numerics_profile

ROOT = Path(__file__).resolve().parents[1]
KERNEL_ARGS = ["--IPKernelApp.capture_fd_output=False", "--HistoryManager.hist_file=:memory:"]
STATUS_FILE = ROOT / "data" / "notebook_status.csv"
STATUS_FIELDS = ["notebook", "seconds", "peak_memory_mb", "date"]


class Run(NamedTuple):
    """One notebook executed: the notebook with its outputs (or None), seconds, peak memory."""

    notebook: nbformat.NotebookNode | None
    seconds: float
    peak_memory_mb: float


def book_notebooks() -> list[Path]:
    """Every notebook under chapters/, in order (checkpoints excluded)."""
    return sorted(
        p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
    )


def peak_memory_mb(pid: int) -> float:
    """The process's peak resident set in MB: Linux's VmHWM, elsewhere its resident set now."""
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024 / 1e6
    return psutil.Process(pid).memory_info().rss / 1e6


def execute(path: Path, timeout: int = 1200) -> Run:
    """Run one notebook top to bottom in a fresh kernel, in its own folder (nothing written).

    The kernel's peak memory is read after every cell, while the kernel is still running.
    """
    nb = nbformat.read(path, as_version=4)
    peak = 0.0

    def record_memory(**_: object) -> None:
        nonlocal peak
        peak = max(peak, peak_memory_mb(client.km.provisioner.pid))

    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        extra_arguments=KERNEL_ARGS,
        record_timing=False,
        on_cell_executed=record_memory,
    )
    start = time.perf_counter()
    client.execute()
    return Run(nb, time.perf_counter() - start, peak)


def regenerate(path: Path, timeout: int = 1200) -> Run:
    """Execute one notebook and store its outputs in place; return the run."""
    run = execute(path, timeout)
    count = 0
    for cell in run.notebook.cells:
        if cell.cell_type != "code":
            continue
        cell.outputs = coalesce_streams(cell.outputs)
        count += 1
        cell.execution_count = count
        for output in cell.outputs:
            if output.output_type == "execute_result":
                output.execution_count = count
    nbformat.write(run.notebook, path)
    return run


def status_name(path: Path) -> str:
    """A notebook's name in the status table: its path under chapters/, without the suffix."""
    return path.relative_to(ROOT / "chapters").with_suffix("").as_posix()


def record_status(runs: dict[Path, Run], status_file: Path = STATUS_FILE) -> None:
    """Update the status table: these runs' rows replaced, the other notebooks' rows kept.

    Rows of notebooks that no longer exist are dropped; the last row is the total time and the
    largest peak.
    """
    rows = {}
    if status_file.exists():
        with status_file.open(newline="") as f:
            rows = {row["notebook"]: row for row in csv.DictReader(f) if row["notebook"] != "total"}
    today = datetime.date.today().isoformat()
    for path, run in runs.items():
        rows[status_name(path)] = {
            "notebook": status_name(path),
            "seconds": f"{run.seconds:.1f}",
            "peak_memory_mb": f"{run.peak_memory_mb:.0f}",
            "date": today,
        }
    book = {status_name(p) for p in book_notebooks()}
    kept = [rows[name] for name in sorted(rows) if name in book]
    total = {
        "notebook": "total",
        "seconds": f"{sum(float(row['seconds']) for row in kept):.1f}",
        "peak_memory_mb": max((row["peak_memory_mb"] for row in kept), key=float, default="0"),
        "date": max((row["date"] for row in kept), default=today),
    }
    with status_file.open("w", newline="") as f:
        writer = csv.DictWriter(f, STATUS_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows([*kept, total])


def regenerate_quietly(path: Path) -> Run:
    """:func:`regenerate`, returning the run without its notebook (for a worker process)."""
    run = regenerate(path)
    return Run(None, run.seconds, run.peak_memory_mb)


def record_fingerprint(
    notebooks: list[Path], fingerprint_file: Path = numerics_fingerprint.STORED_FILE
) -> None:
    """Store this machine's numerics fingerprint beside the outputs it wrote.

    ``pytest`` compares the stored outputs strictly only on a machine whose fingerprint equals
    it. If a partial run changes the fingerprint, the other notebooks were written under other
    numerics: say so, since only a full run makes the file describe every notebook.
    """
    here = numerics_fingerprint.measure()
    if fingerprint_file.exists() and set(notebooks) != set(book_notebooks()):
        stored = numerics_fingerprint.read(fingerprint_file)
        differing = numerics_fingerprint.differences(stored, here)
        if differing:
            print(
                "warning: the other notebooks' outputs were written under other numerics "
                f"({'; '.join(differing)}); regenerate them all",
                flush=True,
            )
    numerics_fingerprint.write(here, fingerprint_file)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: all under chapters/")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="notebooks run at once, one kernel each, as pytest runs them (default: CPU count)",
    )
    args = parser.parse_args()
    notebooks = [path.resolve() for path in args.notebooks or book_notebooks()]
    os.environ.update(BOOK_DEVICE="cpu", CUDA_VISIBLE_DEVICES="")
    print(f"numerics profile: {apply_numerics_profile()}", flush=True)
    runs = {}
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.jobs, mp_context=spawn) as pool:
        for path, run in zip(notebooks, pool.map(regenerate_quietly, notebooks), strict=True):
            runs[path] = run
            print(f"{status_name(path)}: {run.seconds:.1f} s, peak {run.peak_memory_mb:.0f} MB")
    record_status(runs)
    record_fingerprint(notebooks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
