"""Session set-up shared by the unit tests and the notebook run (nbval)."""

import matplotlib.font_manager

from helpers.runtime import apply_numerics_profile, get_device

pytest_plugins = ["nbval_tolerance", "pytester"]

TOLERANT_RTOL = 0.02
"""The relative tolerance used, unless given, where stored outputs cannot be matched bit for bit."""

# Before any notebook kernel starts: every kernel inherits this environment, so NumPy, MKL,
# oneDNN and OpenBLAS load in it with the profile's code paths (BOOK_NUMERICS, default portable).
NUMERICS = apply_numerics_profile()


def why_not_exact() -> str | None:
    """Why this run cannot reproduce the stored (portable, CPU) outputs bit for bit, if it can't."""
    if NUMERICS != "portable":
        return "BOOK_NUMERICS=native, or a CPU that is not x86-64"
    device = get_device()
    if device.type != "cpu":
        return f"the notebooks run on {device.type}"
    return None


def pytest_configure(config):
    """Compare numbers with a tolerance where bits cannot match and no tolerance was given."""
    if config.getoption("nbval_rtol") is None and why_not_exact() is not None:
        config.option.nbval_rtol = TOLERANT_RTOL


def pytest_report_header(config):
    rtol = config.getoption("nbval_rtol")
    comparison = "exactly" if rtol is None else f"with --nbval-rtol={rtol:g}"
    reason = why_not_exact()
    return f"numerics: {NUMERICS}; notebook outputs compared {comparison}" + (
        f" ({reason})" if reason else ""
    )


def pytest_sessionstart(session):
    """Build matplotlib's font cache once, here, before any notebook kernel starts.

    On a fresh machine the first ``import matplotlib.pyplot`` logs "Matplotlib is building the
    font cache" to stderr; inside a notebook that extra stream would fail nbval's comparison.
    """
    matplotlib.font_manager.findfont("DejaVu Sans")
