"""Folk tunes in ABC notation from the corpus that ships inside music21, read as text.

music21 bundles two large collections of dance tunes written in ABC notation, a plain-text
music format (one header field per line, ``X:`` number, ``T:`` title, ``M:`` meter, ``L:``
default note length, ``R:`` rhythm, ``Q:`` tempo, ``K:`` key, then the notes):

- ``oneills1850``: *O'Neill's Music of Ireland* (1903, 1,850 tunes), transcribed by volunteers
  in files of consecutive tune numbers; a few ranges were transcribed twice;
- ``ryansMammoth``: *Ryan's Mammoth Collection* (Boston, 1883), one file per tune.

:func:`load_folk_tunes` reads these files as text and splits them at ``X:`` lines into
:class:`Tune` records, without parsing the music (music21 would take minutes for ~3,000
tunes). The order is stable: collections in the order asked for, files sorted by name, tunes
in file order. :func:`parse_abc_tunes` does the same for any ABC string, so the rules can be
tested on hand-written text. :func:`parse_score` hands one tune to music21's parser: the book's
test of whether a generated tune is music at all.

For language models, :func:`split_tunes` splits the tunes into train / validation / test sets
by tune (a seeded permutation), and :class:`CharVocab` turns ABC text into integer ids, one per
character, with an end-of-tune token between tunes.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import math
import re
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import music21

COLLECTIONS: dict[str, str] = {
    "oneills1850": "O'Neill's Music of Ireland",
    "ryansMammoth": "Ryan's Mammoth Collection",
}
"""The ABC collections in music21's corpus: folder name -> book title."""

# Collections whose X: field is the tune's number in the book (so a number seen twice is the
# same tune transcribed twice); Ryan's files each restart at X:1.
_NUMBERED = {"oneills1850"}

_FIELD = re.compile(r"^([A-Za-z]):(.*)$")

_MODES = {
    "": "major",
    "maj": "major",
    "ion": "major",
    "m": "minor",
    "min": "minor",
    "aeo": "minor",
    "dor": "dorian",
    "mix": "mixolydian",
    "phr": "phrygian",
    "lyd": "lydian",
    "loc": "locrian",
}


@dataclass(frozen=True)
class Tune:
    """One tune of an ABC collection.

    Args:
        collection: corpus folder name, a key of :data:`COLLECTIONS`.
        file: name of the ``.abc`` file it comes from.
        number: the ``X:`` reference number.
        title: the first ``T:`` title (empty if none).
        meter: the ``M:`` field of the header, e.g. ``6/8`` or ``C|``.
        key: the ``K:`` field that ends the header, e.g. ``G``, ``Ador``, ``A Minor``.
        unit_length: the ``L:`` field; when absent, the ABC standard's default (``1/16`` if
            the meter is below 3/4, else ``1/8``).
        tempo: the ``Q:`` field, or ``None`` if the header gives none.
        rhythm: the ``R:`` field in lower case (``reel``, ``jig``...), or ``None``.
        body: the notes after the ``K:`` line, blank lines at both ends removed.
    """

    collection: str
    file: str
    number: int
    title: str
    meter: str
    key: str
    unit_length: str
    tempo: str | None
    rhythm: str | None
    body: str

    @property
    def abc(self) -> str:
        """Cleaned ABC text: the meter, unit-length and key lines, then the body.

        The unit length is kept because the body's note durations are multiples of it.
        """
        return f"M:{self.meter}\nL:{self.unit_length}\nK:{self.key}\n{self.body}"

    @property
    def tonic(self) -> str:
        """The key's tonic letter with its accidental (``G``, ``Bb``, ``F#``)."""
        return _split_key(self.key)[0]

    @property
    def mode(self) -> str:
        """``major``, ``minor``, ``dorian``, ``mixolydian``... or ``other`` if unrecognized."""
        return _split_key(self.key)[1]


def _split_key(key: str) -> tuple[str, str]:
    """Tonic and mode of an ABC key such as ``Gm``, ``A Minor``, ``Dmix`` or ``HP``."""
    match = re.match(r"\s*([A-Ga-g][#b]?)\s*([A-Za-z]*)", key)
    if match is None:
        return "", "other"
    tonic = match.group(1).capitalize()
    word = match.group(2).lower()
    mode = _MODES.get(word if word in ("", "m") else word[:3], "other")
    return tonic, mode


def _default_unit_length(meter: str) -> str:
    """ABC 2.1 §3.1.7: 1/16 if the meter as a fraction is below 0.75, else 1/8."""
    if re.fullmatch(r"\s*\d+\s*/\s*\d+\s*", meter):
        num, den = (int(part) for part in meter.split("/"))
        if den and Fraction(num, den) < Fraction(3, 4):
            return "1/16"
    return "1/8"


def _parse_one(lines: list[str], source: str, collection: str) -> Tune:
    """One tune from its lines (the first is its ``X:`` line)."""
    number_text = lines[0][2:].strip()
    if not number_text.isdigit():
        raise ValueError(f"{source}: X: line {lines[0]!r} has no tune number")
    number = int(number_text)
    fields: dict[str, str] = {}
    for index, line in enumerate(lines[1:], start=1):
        if line.startswith("%") or not line.strip():
            continue
        match = _FIELD.match(line)
        if match is None:
            raise ValueError(
                f"{source}: tune X:{number} has no K: (key) line before its first line of "
                f"notes {line!r}"
            )
        name, value = match.group(1), match.group(2).strip()
        fields.setdefault(name, value)
        if name == "K":
            body = "\n".join(lines[index + 1 :]).strip("\n")
            break
    else:
        raise ValueError(f"{source}: tune X:{number} has no K: (key) line")
    if "M" not in fields:
        raise ValueError(f"{source}: tune X:{number} has no M: (meter) line before K:")
    if not body.strip():
        raise ValueError(f"{source}: tune X:{number} has no notes after its K: line")
    meter = fields["M"]
    return Tune(
        collection=collection,
        file=source,
        number=number,
        title=fields.get("T", ""),
        meter=meter,
        key=fields["K"],
        unit_length=fields.get("L") or _default_unit_length(meter),
        tempo=fields.get("Q") or None,
        rhythm=fields.get("R", "").lower() or None,
        body=body,
    )


def parse_abc_tunes(text: str, source: str = "<string>", collection: str = "") -> list[Tune]:
    """Split ABC text at its ``X:`` lines and parse each tune's header.

    Text before the first ``X:`` line (a file header) is ignored.

    Args:
        text: the contents of an ABC file.
        source: a name for error messages and :attr:`Tune.file` (the file's name).
        collection: stored in :attr:`Tune.collection`.

    Raises:
        ValueError: naming ``source`` and the tune number, if a tune has no ``K:`` line
            before its notes, no ``M:`` line, no notes, or a non-numeric ``X:``; or if the text
            holds no tune at all.
    """
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    starts = [i for i, line in enumerate(lines) if line.startswith("X:")]
    if not starts:
        raise ValueError(f"{source}: no tune found (no line starts with 'X:')")
    ends = starts[1:] + [len(lines)]
    return [_parse_one(lines[a:b], source, collection) for a, b in zip(starts, ends, strict=True)]


def _collection_files(collection: str) -> list[Path]:
    """The ``.abc`` files of one collection in music21's corpus, sorted by name.

    The corpus folder is found from the installed package's path, without importing music21
    (its import alone takes seconds).
    """
    spec = importlib.util.find_spec("music21")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("music21 is not installed; its corpus holds the folk tunes")
    folder = Path(next(iter(spec.submodule_search_locations))) / "corpus" / collection
    paths = sorted(folder.glob("*.abc"), key=lambda p: p.name)
    if not paths:
        raise FileNotFoundError(f"no .abc files in {folder}")
    return paths


def load_folk_tunes(
    collections: Iterable[str] = tuple(COLLECTIONS), unique: bool = True
) -> list[Tune]:
    """All tunes of the chosen ABC collections of music21's corpus, in a stable order.

    Args:
        collections: folder names, keys of :data:`COLLECTIONS` (default: both).
        unique: in O'Neill's collection, whose ``X:`` is the tune's number in the book, keep
            only the first transcription of each number (files in name order). Ryan's files
            restart at ``X:1`` and are all kept.

    Returns:
        ~1,840 tunes from O'Neill's and ~1,060 from Ryan's.

    Raises:
        ValueError: on an unknown collection name, or a malformed tune (naming its file and
            number).
        FileNotFoundError: if music21's corpus lacks the files.
    """
    names = list(collections)
    unknown = [name for name in names if name not in COLLECTIONS]
    if unknown or not names:
        raise ValueError(
            f"collections must be a non-empty subset of {sorted(COLLECTIONS)}, got {names}"
        )
    tunes: list[Tune] = []
    for collection in names:
        seen: set[int] = set()
        for path in _collection_files(collection):
            text = path.read_text(encoding="utf-8")
            for tune in parse_abc_tunes(text, source=path.name, collection=collection):
                if unique and collection in _NUMBERED:
                    if tune.number in seen:
                        continue
                    seen.add(tune.number)
                tunes.append(tune)
    return tunes


def split_tunes(
    tunes: Sequence[Tune], fractions: tuple[float, float, float] = (0.8, 0.1, 0.1), seed: int = 0
) -> tuple[list[Tune], list[Tune], list[Tune]]:
    """Split tunes into train, validation and test lists, whole tunes at a time.

    A permutation drawn with ``numpy.random.default_rng(seed)`` assigns the first
    ``round(fractions[0] * n)`` tunes to train, the next ``round(fractions[1] * n)`` to
    validation and the rest to test; each list keeps the input order. The same tunes and seed
    always give the same split.

    Raises:
        ValueError: unless ``fractions`` holds three non-negative numbers that sum to 1.
    """
    values = tuple(float(f) for f in fractions)
    if len(values) != 3 or min(values) < 0 or not math.isclose(sum(values), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    n = len(tunes)
    order = np.random.default_rng(seed).permutation(n)
    n_train = round(values[0] * n)
    n_val = min(round(values[1] * n), n - n_train)
    parts = np.split(order, [n_train, n_train + n_val])
    train, val, test = ([tunes[i] for i in np.sort(part)] for part in parts)
    return train, val, test


class CharVocab:
    """Characters of ABC text <-> integer ids, plus an end-of-tune token.

    Ids ``0 .. len(chars) - 1`` are the characters in sorted order; the last id,
    :attr:`end`, marks the end of a tune, so a language model learns where tunes stop.

    Args:
        chars: the distinct characters, in the order of their ids.
    """

    def __init__(self, chars: Iterable[str]) -> None:
        self.chars: tuple[str, ...] = tuple(chars)
        if any(len(c) != 1 for c in self.chars) or len(set(self.chars)) != len(self.chars):
            raise ValueError("chars must be distinct single characters")
        self.index: dict[str, int] = {c: i for i, c in enumerate(self.chars)}
        self.end: int = len(self.chars)
        """The id of the end-of-tune token."""

    @classmethod
    def from_texts(cls, texts: Iterable[str]) -> CharVocab:
        """The vocabulary of every character that occurs in ``texts``, sorted."""
        return cls(sorted(set().union(*(set(text) for text in texts))))

    def __len__(self) -> int:
        """Number of ids: the characters and the end token."""
        return len(self.chars) + 1

    def __repr__(self) -> str:
        return f"CharVocab({len(self.chars)} characters + end token)"

    def encode(self, text: str) -> np.ndarray:
        """The int64 ids of the characters of ``text`` (no end token).

        Raises:
            ValueError: naming the first character of ``text`` that is not in the vocabulary.
        """
        try:
            return np.fromiter((self.index[c] for c in text), dtype=np.int64, count=len(text))
        except KeyError as error:
            raise ValueError(
                f"character {error.args[0]!r} is not in the vocabulary "
                f"({len(self.chars)} characters)"
            ) from None

    def decode(self, ids: Iterable[int]) -> str:
        """The text of ``ids``, up to (not including) the first end token.

        Raises:
            ValueError: on an id outside ``0 .. len(self) - 1``.
        """
        out: list[str] = []
        for i in ids:
            i = int(i)
            if i == self.end:
                break
            if not 0 <= i < self.end:
                raise ValueError(f"id {i} is outside the vocabulary (0..{self.end})")
            out.append(self.chars[i])
        return "".join(out)

    def encode_corpus(self, texts: Iterable[str]) -> np.ndarray:
        """All ``texts`` as one int64 array, each text followed by the end token."""
        end = np.array([self.end], dtype=np.int64)
        parts = [piece for text in texts for piece in (self.encode(text), end)]
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)


def parse_score(text: str) -> music21.stream.Score | None:
    """music21's score of one ABC tune, or ``None`` if the parser fails or finds no note.

    A tune counts as music if music21 parses it without an error and finds at least one note.
    music21 is lenient (it skips symbols it does not understand) and prints warnings on odd
    input; they are captured, since the verdict is what counts. In a notebook, import music21
    in the setup cell, before :func:`helpers.use_book_style` (DESIGN's traps: its import
    switches the notebook's figures to retina PNGs a second later).
    """
    import music21  # imported here: most users of this module never parse

    sink = io.StringIO()
    with (
        warnings.catch_warnings(),
        contextlib.redirect_stdout(sink),
        contextlib.redirect_stderr(sink),
    ):
        warnings.simplefilter("ignore")
        try:
            score = music21.converter.parse(text, format="abc")
        except Exception:  # noqa: BLE001 (any parser error means "does not parse")
            return None
    return score if len(score.flatten().notes) else None
