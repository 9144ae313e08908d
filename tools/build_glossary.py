"""Write the glossary page from its one table: data/glossary.csv -> chapters/appendix/glossary.md.

    python tools/build_glossary.py

Each row names an English term, its Chinese term and the chapter (path under chapters/, no
suffix) that explains it; tests/test_book_structure.py checks that the chapter uses both terms
and that the page is what this script writes, so the glossary and the chapters cannot disagree.
"""

from __future__ import annotations

import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "data" / "glossary.csv"
PAGE = ROOT / "chapters" / "appendix" / "glossary.md"

HEADER = """# Glossary · 术语表

Every key term of the book in English and Chinese, with the chapter that explains it. The page
is generated from `data/glossary.csv` by `tools/build_glossary.py`; edit the table, not this page.

| English | 中文 | explained in |
|---|---|---|
"""


def read_terms(table: Path = TABLE) -> list[dict[str, str]]:
    """The glossary's rows, sorted by English term."""
    with table.open(newline="", encoding="utf-8") as f:
        return sorted(csv.DictReader(f), key=lambda row: row["english"].lower())


def render(terms: list[dict[str, str]]) -> str:
    """The glossary page in MyST Markdown: one table row per term, linking to its chapter."""
    rows = [f"| {t['english']} | {t['chinese']} | {{doc}}`../{t['chapter']}` |\n" for t in terms]
    return HEADER + "".join(rows)


def main() -> None:
    PAGE.write_text(render(read_terms()), encoding="utf-8")
    print(f"{PAGE.relative_to(ROOT)}: {len(read_terms())} terms")


if __name__ == "__main__":
    main()
