"""A small deterministic synthesizer: note events (or a music21 score) to a waveform.

The book needs labelled audio without downloading any: :func:`render_notes` plays a list of
:class:`Note` events with one of the :data:`INSTRUMENTS`, and :func:`render_score` does the same
for a music21 stream. The timbres differ in their spectra, which is what MFCCs capture:

- ``sine``: the fundamental alone;
- ``organ``: additive synthesis, all harmonics with slowly falling amplitudes;
- ``clarinet``: odd harmonics only (a cylindrical bore closed at one end);
- ``pluck``: harmonics that decay exponentially, the higher ones faster (a plucked string);
- ``brass``: frequency modulation (FM) at a 1:1 ratio whose index follows the loudness, so the
  tone gets brighter as it swells.

Every note gets a short raised-cosine attack and release inside its duration, so there are no
clicks and the samples outside every note are exactly zero. Nothing is random: the same input
gives bit-identical output.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

ATTACK_S = 0.01
RELEASE_S = 0.03


def midi_to_hz(midi: float) -> float:
    """Frequency of a MIDI note number in equal temperament (A4 = MIDI 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((midi - 69.0) / 12.0)


@dataclass(frozen=True)
class Note:
    """One note event.

    Args:
        midi: pitch as a MIDI note number; fractional values detune (69.1 is 10 cents sharp).
        start_s: onset in seconds (>= 0).
        duration_s: length in seconds (> 0); the release fades out inside it.
        velocity: loudness in (0, 1].
    """

    midi: float
    start_s: float
    duration_s: float
    velocity: float = 0.8

    def __post_init__(self) -> None:
        if self.duration_s <= 0:
            raise ValueError(f"duration_s must be positive, got {self.duration_s}")
        if self.start_s < 0:
            raise ValueError(f"start_s must be non-negative, got {self.start_s}")
        if not 0 < self.velocity <= 1:
            raise ValueError(f"velocity must be in (0, 1], got {self.velocity}")

    @property
    def frequency(self) -> float:
        """The fundamental frequency in Hz."""
        return midi_to_hz(self.midi)


def _envelope(n: int, sr: int) -> np.ndarray:
    """Raised-cosine attack and release of at most a third of the note each."""
    env = np.ones(n)
    attack = min(int(ATTACK_S * sr), n // 3)
    release = min(int(RELEASE_S * sr), n // 3)
    if attack:
        env[:attack] = 0.5 - 0.5 * np.cos(np.pi * np.arange(attack) / attack)
    if release:
        env[n - release :] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(release) + 1) / release)
    return env


def _additive(freq: float, t: np.ndarray, sr: int, amps: dict[int, float]) -> np.ndarray:
    """Sum of harmonics ``k * freq`` with the given amplitudes, skipping those above Nyquist."""
    out = np.zeros_like(t)
    for k, a in amps.items():
        if k * freq < sr / 2:
            out += a * np.sin(2 * np.pi * k * freq * t)
    return out


def _sine(freq: float, t: np.ndarray, sr: int) -> np.ndarray:
    return np.sin(2 * np.pi * freq * t)


def _organ(freq: float, t: np.ndarray, sr: int) -> np.ndarray:
    return _additive(freq, t, sr, {k: 0.8 ** (k - 1) for k in range(1, 9)}) / 3.2


def _clarinet(freq: float, t: np.ndarray, sr: int) -> np.ndarray:
    return _additive(freq, t, sr, {k: 1.0 / k for k in range(1, 16, 2)}) / 1.3


def _pluck(freq: float, t: np.ndarray, sr: int) -> np.ndarray:
    out = np.zeros_like(t)
    for k in range(1, 13):
        if k * freq < sr / 2:
            out += np.exp(-t * (2.0 + 1.5 * k)) / k * np.sin(2 * np.pi * k * freq * t)
    return out / 1.6


def _brass(freq: float, t: np.ndarray, sr: int) -> np.ndarray:
    index = 3.0 * (1.0 - np.exp(-t / 0.05))  # the spectrum widens as the note swells
    return np.sin(2 * np.pi * freq * t + index * np.sin(2 * np.pi * freq * t))


_VOICES = {"sine": _sine, "organ": _organ, "clarinet": _clarinet, "pluck": _pluck, "brass": _brass}
"""Each instrument's raw waveform (peak about 1), before the envelope and velocity."""

INSTRUMENTS = tuple(_VOICES)
"""Names :func:`render_notes` accepts."""


def render_notes(
    notes: Iterable[Note],
    instrument: str = "sine",
    sr: int = 16000,
    total_s: float | None = None,
) -> np.ndarray:
    """Render note events to a mono float32 waveform in [-1, 1].

    Args:
        notes: the events; they may overlap (chords). Rests are simply gaps between them.
        instrument: one of :data:`INSTRUMENTS`.
        sr: sample rate in Hz.
        total_s: length of the output in seconds; default: until the last note ends.

    Overlapping notes add up; if the mix would exceed 1 in magnitude it is scaled down to peak 1.
    """
    if instrument not in INSTRUMENTS:
        raise ValueError(f"unknown instrument {instrument!r}: use one of {', '.join(INSTRUMENTS)}")
    if sr <= 0:
        raise ValueError(f"sr must be positive, got {sr}")
    notes = list(notes)
    end_s = max((n.start_s + n.duration_s for n in notes), default=0.0)
    if total_s is not None:
        if total_s <= 0:
            raise ValueError(f"total_s must be positive, got {total_s}")
        end_s = total_s
    out = np.zeros(int(round(end_s * sr)))
    for note in notes:
        start = int(round(note.start_s * sr))
        stop = min(int(round((note.start_s + note.duration_s) * sr)), len(out))
        if stop <= start:
            continue
        t = np.arange(stop - start) / sr
        wave = _VOICES[instrument](note.frequency, t, sr)
        out[start:stop] += note.velocity * _envelope(stop - start, sr) * wave
    peak = float(np.max(np.abs(out), initial=0.0))
    if peak > 1.0:
        out /= peak
    return out.astype(np.float32)


def score_to_notes(stream: Any, bpm: float = 120.0, velocity: float = 0.8) -> list[Note]:
    """Note events of a music21 stream (score, part or measure); chords give one note per pitch.

    Tied notes are merged, rests become gaps, and a quarter note lasts ``60 / bpm`` seconds.
    ``velocity`` is used for every note (music21 scores from the corpus rarely carry dynamics).
    """
    if bpm <= 0:
        raise ValueError(f"bpm must be positive, got {bpm}")
    seconds_per_quarter = 60.0 / bpm
    notes: list[Note] = []
    for element in stream.stripTies().flatten().notes:
        duration = float(element.quarterLength) * seconds_per_quarter
        if duration <= 0:  # grace notes have no length
            continue
        start = float(element.offset) * seconds_per_quarter
        pitches: Sequence[Any] = element.pitches
        notes.extend(Note(p.ps, start, duration, velocity) for p in pitches)
    return notes


def render_score(
    stream: Any, instrument: str = "sine", sr: int = 16000, bpm: float = 120.0
) -> np.ndarray:
    """Render a music21 stream with one instrument: score_to_notes, then render_notes."""
    return render_notes(score_to_notes(stream, bpm), instrument, sr)
