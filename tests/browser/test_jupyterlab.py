"""A chapter run the second way the book is used: opened in JupyterLab, "Run All Cells".

A real `jupyter lab` server (127.0.0.1, a random token, no browser of its own) serves a copy of
one chapter, its stored outputs cleared so that only this run can produce them, and the data it
reads; Chromium opens it, runs every cell from the Run menu, and
waits for the kernel to finish. The chapter's checks cell must print its success line, and no
cell may show an error. The server is stopped in a `finally`, so no process outlives the test.
"""

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from .conftest import ROOT

CHAPTER = Path("chapters/01_background/01_rise_of_large_models.ipynb")
SUCCESS_LINE = "all checks passed"
RUN_TIMEOUT_MS = 240_000
PROMPTS = """Array.from(document.querySelectorAll(".jp-CodeCell .jp-InputArea-prompt"))
  .map((prompt) => prompt.textContent.trim())"""
STARTED = f"() => {PROMPTS}.some((p) => /^\\[(\\*|\\d+)\\]:$/.test(p))"
IDLE = ".jp-Notebook-ExecutionIndicator[data-status='idle']"
FINISHED = f"""() => document.querySelector("{IDLE}") !== null
  && {PROMPTS}.every((p) => /^\\[\\d+\\]:$/.test(p))"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_lab(workdir: Path, port: int, token: str) -> subprocess.Popen:
    """Start JupyterLab in `workdir`, with its settings kept there, off the network."""
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(workdir / ".jupyter"),
        "JUPYTERLAB_WORKSPACES_DIR": str(workdir / ".jupyter" / "workspaces"),
    }
    command = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ip=127.0.0.1",
        f"--port={port}",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={workdir}",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]  # fmt: skip
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = (workdir / "lab.log").open("w")
    return subprocess.Popen(command, cwd=workdir, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_until_up(lab: subprocess.Popen, url: str, workdir: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert lab.poll() is None, "jupyter lab exited:\n" + (workdir / "lab.log").read_text()
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError("jupyter lab did not answer:\n" + (workdir / "lab.log").read_text())


def run_all_from_the_menu(page, attempts: int = 5) -> None:
    """Run > Run All Cells, retried until a cell has started.

    Until JupyterLab has made the notebook its current widget, the item is shown but disabled
    and a click on it does nothing; so the item is clicked only when enabled, and the click
    counts only once a prompt shows `[*]` or a number.
    """
    item = page.locator("li[data-command='runmenu:run-all']")
    for _ in range(attempts):
        page.locator(".jp-Notebook").first.click()
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        item.wait_for()
        if "lm-mod-disabled" in (item.get_attribute("class") or ""):
            page.keyboard.press("Escape")
            page.wait_for_timeout(1000)
            continue
        item.click()
        try:
            page.wait_for_function(STARTED, timeout=15_000)
            return
        except PlaywrightTimeoutError:
            continue
    raise AssertionError(f"Run > Run All Cells started no cell in {attempts} attempts")


def copy_without_outputs(source: Path, target: Path) -> None:
    notebook = nbformat.read(source, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    target.parent.mkdir(parents=True)
    nbformat.write(notebook, target)


def test_a_chapter_runs_all_cells_in_jupyterlab(browser, tmp_path: Path):
    copy_without_outputs(ROOT / CHAPTER, tmp_path / CHAPTER)
    shutil.copytree(ROOT / "data", tmp_path / "data")
    port, token = free_port(), secrets.token_hex(16)
    base = f"http://127.0.0.1:{port}"

    lab = start_lab(tmp_path, port, token)
    page = None
    try:
        wait_until_up(lab, f"{base}/api/status?token={token}", tmp_path)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{base}/lab/tree/{CHAPTER.as_posix()}?token={token}")
        page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=60_000)
        page.locator(IDLE).wait_for(timeout=60_000)

        run_all_from_the_menu(page)

        # Done when every code cell shows an execution number and the kernel is idle again.
        page.wait_for_function(FINISHED, timeout=RUN_TIMEOUT_MS)
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        errors = page.locator(".jp-OutputArea-output[data-mime-type*='stderr']")
        assert errors.count() == 0, errors.all_inner_texts()
        assert any(SUCCESS_LINE in text for text in outputs), outputs[-3:]
    finally:
        if page is not None:
            page.screenshot(path=tmp_path / "jupyterlab.png")
        lab.terminate()
        try:
            lab.wait(timeout=20)
        except subprocess.TimeoutExpired:
            lab.kill()
            lab.wait()
