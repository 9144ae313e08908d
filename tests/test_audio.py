"""Tests of the synthesizer in helpers.data.audio."""

import librosa
import numpy as np
import pytest

from helpers.data.audio import INSTRUMENTS, Note, render_notes, render_score, score_to_notes

SR = 16000


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_a4_has_pitch_440(instrument: str) -> None:
    y = render_notes([Note(69, 0.0, 1.0)], instrument, sr=SR)
    f0 = librosa.yin(y, fmin=200, fmax=1000, sr=SR, frame_length=2048)
    assert abs(float(np.median(f0)) - 440.0) < 1.0


@pytest.mark.parametrize("instrument", INSTRUMENTS)
def test_dtype_range_and_determinism(instrument: str) -> None:
    notes = [Note(60, 0.0, 0.5), Note(64, 0.0, 0.5, 1.0), Note(67, 0.25, 0.5, 1.0)]
    y = render_notes(notes, instrument, sr=SR)
    assert y.dtype == np.float32
    assert y.shape == (int(0.75 * SR),)
    assert np.abs(y).max() <= 1.0
    assert np.abs(y).max() > 0.1
    assert np.array_equal(y, render_notes(notes, instrument, sr=SR))


def test_rest_is_silent() -> None:
    y = render_notes([Note(69, 0.0, 0.5), Note(72, 1.0, 0.5)], "organ", sr=SR)
    assert np.abs(y[int(0.5 * SR) : int(1.0 * SR)]).max() < 1e-6
    assert np.abs(y[: int(0.5 * SR)]).max() > 0.1


def test_no_click_at_note_edges() -> None:
    y = render_notes([Note(69, 0.0, 0.5)], "organ", sr=SR)
    assert abs(y[0]) < 1e-3 and abs(y[-1]) < 1e-2


def test_unknown_instrument_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="unknown instrument 'kazoo'.*sine"):
        render_notes([Note(69, 0.0, 0.5)], "kazoo")


def test_bad_arguments_raise() -> None:
    with pytest.raises(ValueError, match="duration_s"):
        Note(69, 0.0, 0.0)
    with pytest.raises(ValueError, match="sr"):
        render_notes([Note(69, 0.0, 0.5)], "sine", sr=0)


def test_scores_with_rests_and_chords() -> None:
    music21 = pytest.importorskip("music21")
    s = music21.stream.Stream()
    s.append(music21.note.Note("A4", quarterLength=1))
    s.append(music21.note.Rest(quarterLength=1))
    s.append(music21.chord.Chord(["C4", "E4"], quarterLength=2))
    notes = score_to_notes(s, bpm=120)
    assert [(n.midi, n.start_s, n.duration_s) for n in notes] == [
        (69.0, 0.0, 0.5),
        (60.0, 1.0, 1.0),
        (64.0, 1.0, 1.0),
    ]
    y = render_score(s, "clarinet", sr=SR, bpm=120)
    assert y.shape == (2 * SR,)
    assert np.abs(y[int(0.5 * SR) : SR]).max() < 1e-6  # the rest
