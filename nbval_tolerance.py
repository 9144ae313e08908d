"""pytest plugin: compare the numbers in notebook outputs with a tolerance (``--nbval-rtol``).

nbval compares text outputs exactly. That is right where the stored bits can be reproduced
(x86-64 under the portable numerics profile, see ``helpers.runtime``) and wrong where they cannot:
Apple silicon, a CUDA GPU, ``BOOK_NUMERICS=native``. With ``--nbval-rtol=R`` every number in a
text output (streams, ``text/*`` data and glued values, after the sanitizer) may differ from the
stored one by a relative ``R``, or by ``--nbval-atol`` near zero; every other character, and so
the number of lines and of numbers, must still match exactly (runs of spaces count as one, so
that a column may change width). The checks cells' asserts still
decide the rest.

A cell tagged ``numbers-depend-on-bits`` holds the outcome of a chaotic computation (self-play,
a simulation drawing random choices from computed probabilities, a long training run) whose
numbers no tolerance can hold once a single bit differs. Under ``--nbval-rtol`` its text must
still match with every number masked; the strict comparison (no ``--nbval-rtol``) is
unchanged, and the notebook's checks cell asserts the conclusions on every machine.

A cell tagged ``text-depends-on-bits`` shows text sampled from a trained model (a generated
tune): once a single weight differs, every later character may differ. Under ``--nbval-rtol``
its outputs must still be of the same kinds and number, but their text is not compared; the
strict comparison is unchanged, and the checks cell asserts what the samples must satisfy.
"""

from __future__ import annotations

import copy
import math
import re

import pytest
from nbval.plugin import IPyNbCell

CHAOTIC_TAG = "numbers-depend-on-bits"
"""Cell tag: under ``--nbval-rtol`` compare this cell's text with its numbers masked."""

SAMPLED_TAG = "text-depends-on-bits"
"""Cell tag: under ``--nbval-rtol`` compare only the kinds and number of this cell's outputs."""

NUMBER = re.compile(r"(?<![\w.])[-+]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?")
"""A number as a notebook prints it: ``-0.413``, ``1,797``, ``3e-08``; not the 16 of ``bf16``."""


BAR = re.compile(r"\|[█▉▊▋▌▍▎▏ ]*\|")
"""A tqdm bar, ``|███▌      |``: it draws the percentage beside it, so it is compared as one."""

SPACES = re.compile(r"[ \t]+")
"""Runs of spaces: a column padded for ``99`` is one space wider than for ``100``."""


def texts_match(reference: str, test: str, rtol: float, atol: float) -> bool:
    """Whether ``test`` equals ``reference`` but for numbers within ``rtol`` (or ``atol``).

    Runs of spaces count as one, so that a table whose numbers changed width still matches,
    and a progress bar matches any bar (the percentage it draws is a number beside it); line
    breaks and every other character must be the same.
    """
    if _layout(reference) != _layout(test):
        return False
    return all(
        math.isclose(_value(a), _value(b), rel_tol=rtol, abs_tol=atol)
        for a, b in zip(NUMBER.findall(reference), NUMBER.findall(test), strict=True)
    )


def _layout(text: str) -> list[str]:
    """The text between the numbers, with runs of spaces as one and each bar as ``|BAR|``."""
    return [SPACES.sub(" ", BAR.sub("|BAR|", part)) for part in NUMBER.split(text)]


def _value(number: str) -> float:
    return float(number.replace(",", ""))


def _is_text(mime_type: str) -> bool:
    """Text a reader sees: ``text/*``, and myst-nb's glued values (``…record/text/plain``)."""
    return mime_type.startswith("text/") or mime_type.endswith("/text/plain")


def adopt_close_text(
    cell: IPyNbCell, test: dict, reference: dict, rtol: float, atol: float, any_text: bool = False
):
    """A copy of the ``test`` output whose texts within tolerance are the ``reference``'s.

    With ``any_text``, every text of the same kind and key is the reference's.
    """
    if test.get("output_type") != reference.get("output_type"):
        return test
    adopted = copy.deepcopy(test)
    if test["output_type"] == "stream":
        holders = [(adopted, reference, "text")] if test["name"] == reference["name"] else []
    else:
        data, ref_data = adopted.get("data", {}), reference.get("data", {})
        holders = [(data, ref_data, k) for k in data if _is_text(k) and k in ref_data]
    for holder, ref_holder, key in holders:
        ours, theirs = holder[key], ref_holder[key]
        if isinstance(ours, str) and isinstance(theirs, str):
            if any_text or texts_match(cell.sanitize(theirs), cell.sanitize(ours), rtol, atol):
                holder[key] = theirs
    return adopted


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("nbval tolerance")
    group.addoption(
        "--nbval-rtol",
        type=float,
        default=None,
        metavar="R",
        help="compare numbers in notebook text outputs with relative tolerance R (e.g. 0.02)",
    )
    group.addoption(
        "--nbval-atol",
        type=float,
        default=1e-3,
        metavar="A",
        help="with --nbval-rtol, numbers closer than A are equal (default 1e-3)",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Wrap nbval's comparison; it reads the options per cell, so conftest may set them later."""
    exact_compare = IPyNbCell.compare_outputs

    def compare_outputs(self, test, ref, skip_compare=None):
        rtol = self.config.getoption("nbval_rtol")
        if rtol is not None:
            atol = self.config.getoption("nbval_atol")
            tags = self.cell.metadata.get("tags", [])
            if CHAOTIC_TAG in tags:
                rtol = math.inf
            sampled = SAMPLED_TAG in tags
            pairs = zip(test, ref, strict=False)  # an extra or missing output fails below
            adopted = [adopt_close_text(self, t, r, rtol, atol, sampled) for t, r in pairs]
            test = adopted + list(test[len(ref) :])
        return exact_compare(self, test, ref, skip_compare)

    rtol = config.getoption("nbval_rtol")
    if rtol is not None and not 0 < rtol < 1:
        raise pytest.UsageError(f"--nbval-rtol must be between 0 and 1, got {rtol}")
    IPyNbCell.compare_outputs = compare_outputs
    config.add_cleanup(lambda: setattr(IPyNbCell, "compare_outputs", exact_compare))
