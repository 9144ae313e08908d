"""The numerics fingerprint that decides whether pytest compares notebook outputs strictly."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import numerics_fingerprint as fp  # noqa: E402

STORED = {
    "profile": "portable",
    "threads": "1",
    "torch matmul (MKL)": "8a05590a75572663",
    fp.NOT_USED_BY_THE_BOOK[0]: "d741adba82529bfa",
}


def test_a_stored_fingerprint_reads_back_as_written(tmp_path):
    path = tmp_path / "fingerprint.txt"
    fp.write(STORED, path)
    assert path.read_text().splitlines()[:2] == ["profile portable", "threads 1"]
    assert fp.read(path) == STORED


def test_equal_fingerprints_have_no_differences():
    assert fp.differences(STORED, dict(STORED)) == []


def test_differences_name_each_changed_or_missing_line_and_the_thread_count():
    here = STORED | {"threads": "2", "torch matmul (MKL)": "0" * 16, "new line": "1" * 16}
    assert fp.differences(STORED, here) == ["threads", "torch matmul (MKL)", "new line"]
    missing = {k: v for k, v in STORED.items() if k != "torch matmul (MKL)"}
    assert fp.differences(STORED, missing) == ["torch matmul (MKL)"]


def test_what_the_book_does_not_use_never_makes_a_difference():
    here = STORED | {label: "f" * 16 for label in fp.NOT_USED_BY_THE_BOOK}
    assert fp.differences(STORED, here) == []


def test_the_repository_stores_the_fingerprint_of_the_machine_that_wrote_its_outputs():
    stored = fp.read(fp.STORED_FILE)
    assert stored["profile"] == "portable"
    assert "10 steps of Adam fused (the book's)" in stored
    assert all(
        len(value) == 16
        for label, value in stored.items()
        if label != "profile" and label != "threads"
    )
