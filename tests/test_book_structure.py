"""Structural promises of the book, checked without running any notebook."""

from __future__ import annotations

import csv
import json
import re
import sys
from pathlib import Path

import pytest
import yaml
from book_toc import toc_files

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "chapters").rglob("*.ipynb") if ".ipynb_checkpoints" not in p.parts
)
MAX_OUTPUT_BYTES = 500_000


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


BIB_KEYS = re.findall(r"@\w+\{([^,]+),", (ROOT / "references.bib").read_text())
PAGES = NOTEBOOKS + sorted((ROOT / "chapters").rglob("*.md")) + [ROOT / "intro.md"]


def cited_keys(page: Path) -> set[str]:
    groups = re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", page.read_text())
    return {key.strip() for group in groups for key in group.split(",")}


def test_every_citation_is_in_the_bibliography():
    for page in PAGES:
        unknown = cited_keys(page) - set(BIB_KEYS)
        assert not unknown, f"{page.name} cites unknown keys {sorted(unknown)}"


def test_every_bibliography_entry_is_cited_once_defined():
    """The bibliography page lists references.bib whole: no entry that no page cites, no twin."""
    cited = set().union(*(cited_keys(page) for page in PAGES))
    assert sorted(set(BIB_KEYS) - cited) == [], "entries no page cites"
    assert len(BIB_KEYS) == len(set(BIB_KEYS)), "a key defined twice"


def test_requirements_are_pinned_exactly():
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        spec = line.split("#")[0].strip()
        if spec and not spec.startswith("-"):
            assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", spec), f"not pinned: {spec}"


def test_status_table_lists_every_notebook_with_a_time():
    """data/notebook_status.csv, written by tools/regenerate_outputs.py, rendered by status.md."""
    with (ROOT / "data" / "notebook_status.csv").open(newline="") as f:
        rows = {row["notebook"]: row for row in csv.DictReader(f)}
    total = rows.pop("total")
    names = {p.relative_to(ROOT / "chapters").with_suffix("").as_posix() for p in NOTEBOOKS}
    assert set(rows) == names, "regenerate the notebooks missing from the status table"
    assert all(float(row["seconds"]) > 0 for row in rows.values())
    seconds = sum(float(row["seconds"]) for row in rows.values())
    assert float(total["seconds"]) == pytest.approx(seconds, abs=0.1 * len(rows))


def test_the_workflow_runs_the_ci_script_and_publishes_main():
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "book.yml").read_text())
    ci_steps = workflow["jobs"]["ci"]["steps"]
    assert any(step.get("run") == "bash .ci/run" for step in ci_steps)
    deploy = workflow["jobs"]["deploy"]
    assert deploy["needs"] == "ci" and "refs/heads/main" in deploy["if"]
    assert any("deploy-pages" in step.get("uses", "") for step in deploy["steps"])


def test_config_has_no_placeholder_urls():
    config = (ROOT / "_config.yml").read_text()
    assert "example.org" not in config and "example.com" not in config


def _glossary():
    sys.path.insert(0, str(ROOT / "tools"))
    import build_glossary

    return build_glossary


def test_glossary_page_is_generated_from_its_table():
    glossary = _glossary()
    page = (ROOT / "chapters" / "appendix" / "glossary.md").read_text(encoding="utf-8")
    assert page == glossary.render(glossary.read_terms()), "run python tools/build_glossary.py"


def test_every_glossary_term_is_explained_where_the_glossary_says():
    for term in _glossary().read_terms():
        chapter = ROOT / "chapters" / f"{term['chapter']}.ipynb"
        cells = json.loads(chapter.read_text(encoding="utf-8"))["cells"]
        markdown = "".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        prose = " ".join(markdown.split())  # a term may be wrapped across lines
        assert term["english"].lower() in prose.lower(), (term, chapter.name)
        assert term["chinese"] in prose, (term, chapter.name)


def test_every_faq_answer_links_to_where_the_book_shows_it():
    faq = (ROOT / "chapters" / "appendix" / "faq.md").read_text(encoding="utf-8")
    source_part = faq.split("## The source posts' questions")[1].split("## Readers' questions")[0]
    answers = source_part.split("\n### ")[1:]
    assert len(answers) == 7, "000 §6.1-6.4 and 001 §6's five questions (two pairs merged)"
    for answer in answers:
        assert "{doc}`" in answer, answer.splitlines()[0]
