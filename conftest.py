"""Session set-up shared by the unit tests and the notebook run (nbval)."""

import matplotlib.font_manager


def pytest_sessionstart(session):
    """Build matplotlib's font cache once, here, before any notebook kernel starts.

    On a fresh machine the first ``import matplotlib.pyplot`` logs "Matplotlib is building the
    font cache" to stderr; inside a notebook that extra stream would fail nbval's comparison.
    """
    matplotlib.font_manager.findfont("DejaVu Sans")
