"""Tests of the ABC folk-tune loader in helpers.data.folk_tunes."""

import pytest

from helpers.data.folk_tunes import COLLECTIONS, load_folk_tunes, parse_abc_tunes, parse_score

GOOD = """%abc header comment
X: 7
T: The Test Reel
T: Second title
M:C|
R:Reel
Q:1/4=100
K:Ador
|:EAAB c2BA|GEDE G2:|
"""


@pytest.fixture(scope="module")
def tunes():
    return load_folk_tunes()


def test_count_and_both_collections(tunes) -> None:
    by_collection = {name: [t for t in tunes if t.collection == name] for name in COLLECTIONS}
    assert 2500 < len(tunes) < 3500
    assert 1500 < len(by_collection["oneills1850"]) <= 1850
    assert 1000 < len(by_collection["ryansMammoth"]) < 1200
    numbers = [t.number for t in by_collection["oneills1850"]]
    assert len(numbers) == len(set(numbers))  # unique=True keeps one per book number


def test_header_fields_and_order(tunes) -> None:
    first = tunes[0]
    assert (first.collection, first.file, first.number) == ("oneills1850", "0001-0050.abc", 1)
    assert first.title == "The Enchanted Valley"
    assert (first.meter, first.key, first.unit_length) == ("2/4", "Gm", "1/16")
    assert (first.tonic, first.mode) == ("G", "minor")
    assert first.abc.startswith("M:2/4\nL:1/16\nK:Gm\nG3-A")
    assert all(t.meter and t.key and t.body for t in tunes)
    assert sum(t.rhythm == "reel" for t in tunes) > 300
    assert load_folk_tunes(collections=["ryansMammoth"]) == [
        t for t in tunes if t.collection == "ryansMammoth"
    ]


def test_parse_string() -> None:
    (tune,) = parse_abc_tunes(GOOD, source="test.abc", collection="mine")
    assert (tune.number, tune.title, tune.meter, tune.key) == (7, "The Test Reel", "C|", "Ador")
    assert (tune.rhythm, tune.tempo, tune.unit_length) == ("reel", "1/4=100", "1/8")
    assert (tune.tonic, tune.mode, tune.file, tune.collection) == (
        "A",
        "dorian",
        "test.abc",
        "mine",
    )
    assert tune.body == "|:EAAB c2BA|GEDE G2:|"
    two = parse_abc_tunes(GOOD + "\n" + GOOD.replace("X: 7", "X: 8").replace("M:C|", "M:2/4"))
    assert [t.number for t in two] == [7, 8]
    assert two[1].unit_length == "1/16"  # the ABC default for meters below 3/4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (GOOD.replace("K:Ador\n", ""), r"bad\.abc: tune X:7 has no K: \(key\) line"),
        (GOOD.replace("M:C|\n", ""), r"bad\.abc: tune X:7 has no M: \(meter\)"),
        (GOOD.replace("X: 7", "X: seven"), r"bad\.abc: X: line .* has no tune number"),
        (GOOD.split("K:")[0] + "K:G\n\n", r"bad\.abc: tune X:7 has no notes"),
        ("T:no tunes here\n", r"bad\.abc: no tune found"),
    ],
)
def test_malformed_text_names_file_and_tune(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_abc_tunes(text, source="bad.abc")


def test_unknown_collection() -> None:
    with pytest.raises(ValueError, match="non-empty subset of"):
        load_folk_tunes(collections=["essenFolksong"])


# ------------------------------------------------------------------ split and vocabulary


def test_split_disjoint_complete_and_stable(tunes) -> None:
    from helpers.data.folk_tunes import split_tunes

    train, val, test = split_tunes(tunes, seed=0)
    assert (len(train), len(val), len(test)) == (
        round(0.8 * len(tunes)),
        round(0.1 * len(tunes)),
        len(tunes) - round(0.8 * len(tunes)) - round(0.1 * len(tunes)),
    )
    ids = [{id(t) for t in part} for part in (train, val, test)]
    assert not (ids[0] & ids[1] or ids[0] & ids[2] or ids[1] & ids[2])
    assert ids[0] | ids[1] | ids[2] == {id(t) for t in tunes}
    assert split_tunes(tunes, seed=0) == (train, val, test)
    assert split_tunes(tunes, seed=1)[1] != val
    position = {id(t): i for i, t in enumerate(tunes)}
    assert [position[id(t)] for t in test] == sorted(position[id(t)] for t in test)


@pytest.mark.parametrize("fractions", [(0.8, 0.1), (0.8, 0.3, -0.1), (0.5, 0.2, 0.2)])
def test_split_rejects_bad_fractions(tunes, fractions) -> None:
    from helpers.data.folk_tunes import split_tunes

    with pytest.raises(ValueError, match="fractions must be three non-negative"):
        split_tunes(tunes, fractions=fractions)


def test_vocab_round_trip_and_corpus() -> None:
    from helpers.data.folk_tunes import CharVocab

    vocab = CharVocab.from_texts(["M:6/8\nK:G\nGAB|", "abc"])
    assert vocab.chars == tuple(sorted(set("M:6/8\nK:G\nGAB|abc")))
    assert len(vocab) == len(vocab.chars) + 1 and vocab.end == len(vocab.chars)
    ids = vocab.encode("GAB|abc")
    assert ids.dtype.name == "int64" and vocab.decode(ids) == "GAB|abc"
    corpus = vocab.encode_corpus(["ab", "c"])
    assert corpus.tolist() == [*vocab.encode("ab"), vocab.end, *vocab.encode("c"), vocab.end]
    assert vocab.decode(corpus) == "ab"  # decoding stops at the first end token
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        vocab.encode("abz")
    with pytest.raises(ValueError, match="outside the vocabulary"):
        vocab.decode([len(vocab)])


def test_vocab_covers_every_tune(tunes) -> None:
    from helpers.data.folk_tunes import CharVocab

    vocab = CharVocab.from_texts(t.abc for t in tunes)
    corpus = vocab.encode_corpus(t.abc for t in tunes)
    assert (corpus == vocab.end).sum() == len(tunes)
    assert len(corpus) == sum(len(t.abc) + 1 for t in tunes)


def test_parse_score_reads_a_real_tune(tunes) -> None:
    score = parse_score(tunes[0].abc)
    assert score is not None and len(score.flatten().notes) > 50


@pytest.mark.parametrize(
    "text",
    [
        "M:4/4\nK:C\n",  # parses, but holds no note
        "M:3/0\nK:C\nabc|",  # music21 raises ZeroDivisionError
        "K:H#\nabc",  # music21 raises ABCHandlerException
    ],
)
def test_parse_score_is_none_for_what_is_not_music(text: str) -> None:
    assert parse_score(text) is None
