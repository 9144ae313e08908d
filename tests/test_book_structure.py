"""Structural promises of the book, checked without running any notebook."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
MAX_OUTPUT_BYTES = 500_000


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [chapter["file"] for chapter in part["chapters"]]
    return files


def code_cells(path: Path) -> list[dict]:
    cells = json.loads(path.read_text())["cells"]
    return [c for c in cells if c["cell_type"] == "code" and "".join(c["source"]).strip()]


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks under chapters/"


def test_every_toc_entry_exists():
    for entry in toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".ipynb", ".md")]
        assert any(c.exists() for c in candidates), f"_toc.yml lists {entry}, which is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT)))
class TestNotebook:
    def test_is_in_the_toc(self, path):
        assert str(path.relative_to(ROOT).with_suffix("")) in toc_files()

    def test_starts_with_a_title(self, path):
        first = json.loads(path.read_text())["cells"][0]
        assert first["cell_type"] == "markdown"
        assert "".join(first["source"]).startswith("# ")

    def test_code_cells_were_executed_in_order(self, path):
        counts = [cell["execution_count"] for cell in code_cells(path)]
        assert None not in counts, "some code cells have no stored outputs: regenerate"
        assert counts == list(range(1, len(counts) + 1)), "cells were not run top to bottom"

    def test_ends_with_a_checks_cell(self, path):
        last = "".join(code_cells(path)[-1]["source"])
        assert re.search(r"^assert ", last, re.MULTILINE), "the last code cell must assert"

    def test_every_glued_value_is_used_and_every_used_value_glued(self, path):
        # Glued values are read from the stored outputs (myst-nb's "scrapbook" records), so a
        # key built at run time counts too.
        cells = json.loads(path.read_text())["cells"]
        glued = {
            output["metadata"]["scrapbook"]["name"]
            for cell in cells
            if cell["cell_type"] == "code"
            for output in cell["outputs"]
            if "scrapbook" in output.get("metadata", {})
        }
        prose = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        used = set(re.findall(r"\{glue(?::\w+)?\}`(\w+)`", prose))
        assert used <= glued, f"markdown uses keys no cell glues: {sorted(used - glued)}"
        assert glued <= used, f"glued but never used: {sorted(glued - used)}"

    def test_figures_are_png_and_outputs_small(self, path):
        for cell in code_cells(path):
            for output in cell["outputs"]:
                assert "image/svg+xml" not in output.get("data", {}), "store PNG, not SVG"
                size = len(json.dumps(output))
                assert size <= MAX_OUTPUT_BYTES, f"an output of {size:,} bytes"


def test_every_citation_is_in_the_bibliography():
    keys = set(re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text()))
    pages = NOTEBOOKS + sorted((ROOT / "chapters").rglob("*.md")) + [ROOT / "intro.md"]
    for page in pages:
        for group in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text()):
            for key in group.split(","):
                assert key.strip() in keys, f"{page.name} cites unknown key {key.strip()!r}"


def test_requirements_are_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec = line.split("#")[0].strip()
        if spec and not spec.startswith("-"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", spec), f"not pinned: {spec}"
