"""The status table that tools/regenerate_outputs.py keeps (data/notebook_status.csv)."""

import csv
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
from regenerate_outputs import Run, book_notebooks, record_status, status_name  # noqa: E402


def read(path: Path) -> dict[str, dict[str, str]]:
    with path.open(newline="") as f:
        return {row["notebook"]: row for row in csv.DictReader(f)}


def test_a_partial_run_replaces_its_rows_keeps_the_others_and_totals(tmp_path):
    first, second = book_notebooks()[:2]
    status = tmp_path / "status.csv"
    empty = nbformat.v4.new_notebook()
    record_status({first: Run(empty, 10.04, 300.4), second: Run(empty, 20.0, 900.0)}, status)
    record_status({first: Run(empty, 12.0, 350.0)}, status)

    rows = read(status)
    name = status_name(first)
    *notebooks, last = rows
    assert notebooks == sorted(notebooks) and len(notebooks) == 2 and last == "total"
    assert rows[name]["seconds"] == "12.0" and rows[name]["peak_memory_mb"] == "350"
    assert rows["total"]["seconds"] == "32.0" and rows["total"]["peak_memory_mb"] == "900"


def test_rows_of_notebooks_that_are_gone_are_dropped(tmp_path):
    status = tmp_path / "status.csv"
    status.write_text("notebook,seconds,peak_memory_mb,date\nold/removed,5.0,100,2026-01-01\n")
    record_status({}, status)
    assert list(read(status)) == ["total"]
