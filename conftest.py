"""Session set-up shared by the unit tests and the notebook run (nbval)."""

import csv
import os
import sys
from pathlib import Path

import matplotlib.font_manager

from helpers.runtime import apply_numerics_profile, get_device

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tools"))
import numerics_fingerprint  # noqa: E402

pytest_plugins = ["nbval_tolerance", "pytester"]

TOLERANT_RTOL = 0.02
"""The relative tolerance used, unless given, where stored outputs cannot be matched bit for bit."""

REASON_VARIABLE = "BOOK_NOT_EXACT"
"""How the pytest process tells its xdist workers why outputs cannot match ("" if they can)."""

# Before any notebook kernel starts: every kernel inherits this environment, so NumPy, MKL,
# oneDNN and OpenBLAS load in it with the profile's code paths (BOOK_NUMERICS, default portable).
NUMERICS = apply_numerics_profile()


def why_not_exact() -> str | None:
    """Why this run cannot reproduce the stored outputs bit for bit, if it can't.

    The bits match where this machine's numerics fingerprint, measured now under the same
    profile and thread count, equals the one stored with the outputs.
    """
    if NUMERICS != "portable":
        return "BOOK_NUMERICS=native, or a CPU that is not x86-64"
    device = get_device()
    if device.type != "cpu":
        return f"the notebooks run on {device.type}"
    if not numerics_fingerprint.STORED_FILE.exists():
        return f"no stored fingerprint ({numerics_fingerprint.STORED_FILE.relative_to(ROOT)})"
    stored = numerics_fingerprint.read(numerics_fingerprint.STORED_FILE)
    differing = numerics_fingerprint.differences(stored, numerics_fingerprint.measure())
    if differing:
        return "this machine's numerics differ from those that wrote the outputs in: " + "; ".join(
            differing
        )
    return None


def runs_notebooks(config) -> bool:
    """Whether this session collects notebooks (so the fingerprint is worth measuring)."""
    if not config.getoption("nbval"):
        return False
    chapters = ROOT / "chapters"
    paths = [Path(arg.split("::")[0]).resolve() for arg in config.args]
    return any(
        p.suffix == ".ipynb" or p == chapters or chapters in p.parents or p in chapters.parents
        for p in paths
    )


def pytest_configure(config):
    """Compare numbers with a tolerance where bits cannot match and no tolerance was given.

    The pytest process decides (measuring the fingerprint once) and its xdist workers inherit
    the decision through :data:`REASON_VARIABLE`.
    """
    if hasattr(config, "workerinput"):
        reason = os.environ.get(REASON_VARIABLE) or None
    else:
        reason = why_not_exact() if runs_notebooks(config) else None
        os.environ[REASON_VARIABLE] = reason or ""
    config.book_not_exact = reason
    if config.getoption("nbval_rtol") is None and reason is not None:
        config.option.nbval_rtol = TOLERANT_RTOL


def pytest_report_header(config):
    rtol = config.getoption("nbval_rtol")
    comparison = "exactly" if rtol is None else f"with --nbval-rtol={rtol:g}"
    reason = config.book_not_exact
    return f"numerics: {NUMERICS}; notebook outputs compared {comparison}" + (
        f" ({reason})" if reason else ""
    )


def pytest_sessionstart(session):
    """Build matplotlib's font cache once, here, before any notebook kernel starts.

    On a fresh machine the first ``import matplotlib.pyplot`` logs "Matplotlib is building the
    font cache" to stderr; inside a notebook that extra stream would fail nbval's comparison.
    """
    matplotlib.font_manager.findfont("DejaVu Sans")


def scheduling_order(path: Path) -> tuple[int, float]:
    """Where a test file goes in the queue the xdist workers take files from: longest first.

    The browser tests come first (their book build and page loads are the longest file), then
    the notebooks and the unit-test files that start processes (torchrun, a nested pytest),
    slowest first by the last regeneration's times (data/notebook_status.csv) and
    :data:`PROCESS_TEST_SECONDS`, then the other unit tests, short files that fill the
    workers' last gaps. Taking the longest jobs first keeps one core from running a long
    notebook alone at the end.
    """
    if "browser" in path.parts:
        return (0, 0.0)
    if path.suffix == ".ipynb":
        name = path.relative_to(ROOT / "chapters").with_suffix("").as_posix()
        return (1, -NOTEBOOK_SECONDS.get(name, 0.0))
    if path.name in PROCESS_TEST_SECONDS:
        return (1, -PROCESS_TEST_SECONDS[path.name])
    return (2, 0.0)


PROCESS_TEST_SECONDS = {"test_training.py": 22.0, "test_nbval_tolerance.py": 10.0}
"""Unit-test files that start processes, and their time on 2 cores (measured 2026-12-07)."""


def notebook_seconds() -> dict[str, float]:
    """Each notebook's time at the last regeneration, by its name in the status table."""
    status = ROOT / "data" / "notebook_status.csv"
    if not status.exists():
        return {}
    with status.open(newline="") as f:
        return {row["notebook"]: float(row["seconds"]) for row in csv.DictReader(f)}


NOTEBOOK_SECONDS = notebook_seconds()


def pytest_collection_modifyitems(items):
    """Queue whole files longest first (a stable sort: a notebook's cells keep their order)."""
    items.sort(key=lambda item: scheduling_order(item.path))
