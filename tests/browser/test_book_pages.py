"""Every page of the built book, as a reader's browser shows it, offline.

Each page must load with no console error, no failed request and no request to another host;
its images must have loaded, its formulas be typeset by MathJax, its audio players be
playable, and its "previous" and "next" links lead to its neighbours in the table of
contents. A full-page screenshot of a page that fails is kept in the test's temporary folder
(taken only then: it costs more than loading the page).
"""

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from book_toc import toc_files
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

PAGES = [f"{file}.html" for file in toc_files()]

UNTYPESET_MATH = r"""() => {
  const text = document.querySelector("article").innerText;
  return ["\\(", "\\[", "$$"].filter((delimiter) => text.includes(delimiter));
}"""

MATH_COUNTS = """() => ({
  formulas: document.querySelectorAll("article .math").length,
  typeset: document.querySelectorAll("article .math mjx-container").length,
})"""

BROKEN_IMAGES = """() => Array.from(document.images)
  .filter((image) => !image.complete || image.naturalWidth === 0)
  .map((image) => image.getAttribute("src").slice(0, 80))"""

NEIGHBOUR_LINKS = """() => ["left-prev", "right-next"].map(
  (name) => document.querySelector(`a.${name}`)?.href ?? null
)"""

AUDIO_DURATIONS = """async () => Promise.all(
  Array.from(document.querySelectorAll("audio")).map((audio) =>
    audio.readyState >= 1
      ? audio.duration
      : new Promise((resolve) => {
          audio.addEventListener("loadedmetadata", () => resolve(audio.duration));
          audio.addEventListener("error", () => resolve(0));
          audio.load();
        })
  )
)"""


class PageLog:
    """What a page did while it loaded: console errors, failed and foreign requests."""

    def __init__(self, page, base_url: str) -> None:
        self.errors: list[str] = []
        self.failed: list[str] = []
        self.foreign: list[str] = []
        host = urlsplit(base_url).netloc
        page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        page.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url} {r.status}"))

        def check_host(request) -> None:
            url = urlsplit(request.url)
            if url.scheme in ("http", "https", "ws", "wss") and url.netloc != host:
                self.foreign.append(request.url)

        page.on("request", check_host)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    yield page
    context.close()


def open_page(page, url: str) -> None:
    """Go to a page and wait until MathJax, if the page loads it, has typeset every formula.

    Where MathJax never starts (its script failed to load), the wait gives up after 10 s and
    the page's checks say what went wrong.
    """
    page.goto(url, wait_until="load")
    try:
        page.wait_for_function(
            "() => !window.MathJax || window.MathJax.startup?.promise", timeout=10_000
        )
    except PlaywrightTimeoutError:
        return
    page.evaluate("() => window.MathJax?.startup?.promise")


@pytest.mark.parametrize("path", PAGES)
def test_page_renders_offline_and_cleanly(page, book_url: str, path: str, tmp_path: Path):
    log = PageLog(page, book_url)
    open_page(page, book_url + path)
    try:
        check_page(page, log)
        check_neighbour_links(page, book_url, path)
    except AssertionError:
        page.screenshot(path=tmp_path / (Path(path).stem + ".png"), full_page=True)
        raise


def check_page(page, log: PageLog) -> None:
    """Assert that the loaded page is clean: see the module's docstring."""
    assert log.errors == [], "console errors"
    assert log.failed == [], "failed requests"
    assert log.foreign == [], "requests outside 127.0.0.1"
    assert page.evaluate(BROKEN_IMAGES) == [], "images that did not load"
    assert page.evaluate(UNTYPESET_MATH) == [], "raw TeX delimiters left in the text"
    math = page.evaluate(MATH_COUNTS)
    assert math["typeset"] == math["formulas"], f"formulas not typeset: {math}"
    durations = page.evaluate(AUDIO_DURATIONS)
    assert all(d > 0 for d in durations), f"audio players without playable sound: {durations}"


def check_neighbour_links(page, book_url: str, path: str) -> None:
    """Assert that "previous" and "next" lead to the pages before and after in the TOC.

    Page by page, this is the walk a reader makes from the first page to the last and back.
    """
    i = PAGES.index(path)
    expected = [PAGES[i - 1] if i > 0 else None, PAGES[i + 1] if i + 1 < len(PAGES) else None]
    links = [href and href.removeprefix(book_url) for href in page.evaluate(NEIGHBOUR_LINKS)]
    assert links == expected, "previous and next links out of the table of contents' order"


def test_pages_with_math_and_sound_are_checked(page, book_url: str):
    """The checks above are not vacuous: the training chapter has formulas, librosa has sound."""
    open_page(page, book_url + "chapters/04_training/01_training_process.html")
    assert page.evaluate(MATH_COUNTS)["typeset"] > 0
    open_page(page, book_url + "chapters/05_code/04_librosa_audio.html")
    assert len(page.evaluate(AUDIO_DURATIONS)) > 0


def test_search_finds_a_term_where_a_chapter_defines_it(page, book_url: str):
    open_page(page, book_url + "search.html?q=overfitting")
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=30_000)
    hrefs = results.evaluate_all("(links) => links.map((a) => a.getAttribute('href'))")
    assert any("04_training/01_training_process" in href for href in hrefs), hrefs
