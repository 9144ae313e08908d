"""Fixtures for the browser tests: Debian's Chromium driven by Playwright, the book built once.

Chromium comes from the system (`apt-get install chromium`), never from `playwright install`,
which would download a browser. Without it these tests skip with one line, unless
BOOK_REQUIRE_BROWSER=1 (set by .ci/run), which turns the skip into a failure.
"""

import functools
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Chromium as the machine's probe runs it: no sandbox (CI runs as root) and none of the
# background traffic (updates, sync, safe browsing) that a closed network refuses.
CHROMIUM_ARGS = [
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder `browser`, so `pytest -m "not browser"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.browser)


def _missing_browser(reason: str) -> None:
    if os.environ.get("BOOK_REQUIRE_BROWSER") == "1":
        pytest.fail(f"BOOK_REQUIRE_BROWSER=1 but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system's Chromium; skips (or fails under BOOK_REQUIRE_BROWSER=1) when absent."""
    try:
        import playwright  # noqa: F401
    except ImportError:
        _missing_browser("the Python package playwright is not installed")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        _missing_browser("no Chromium on PATH (Debian/Ubuntu: apt-get install chromium)")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path: str):
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def book_html(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The book built from the stored outputs, once per session, in a temporary folder."""
    out = tmp_path_factory.mktemp("book")
    jupyter_book = (
        shutil.which("jupyter-book", path=str(Path(sys.executable).parent)) or "jupyter-book"
    )
    build = subprocess.run(
        [jupyter_book, "build", str(ROOT), "--path-output", str(out)],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    return out / "_build" / "html"


@pytest.fixture(scope="session")
def book_url(book_html: Path) -> Iterator[str]:
    """The built book served on 127.0.0.1 from a thread; the URL of its root, with a slash."""

    class QuietHandler(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    handler = functools.partial(QuietHandler, directory=str(book_html))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
