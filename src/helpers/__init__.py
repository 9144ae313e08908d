"""Helpers for the executable book "AI Large Models in Entertainment".

The names a chapter needs most are importable from here; the modules hold the rest:
``runtime`` (seeding, device), ``training`` (the Trainer), ``plotting`` (figure style, curves),
``data`` (offline data sets: digits, folk tunes, MovieLens, Chinese reviews, simulated
listeners, the audio synthesizer, windows of a token stream), ``models`` (reference models: MLP,
character RNN/LSTM, decoder-only Transformer, sampling), ``ngram`` (a character n-gram language
model), ``recsys`` (rating splits, ranking metrics, bias and matrix-factorization models),
``games`` (tic-tac-toe, minimax and Monte Carlo tree search), ``efficiency`` (what a training
step costs), ``distributed`` (torchrun runs), ``serving`` (a model behind an HTTP API).
"""

from .models import MLP
from .plotting import LiveCurves, plot_history, use_book_style
from .runtime import environment_summary, get_device, seed_everything
from .training import CheckpointError, Trainer, accuracy

__all__ = [
    "CheckpointError",
    "LiveCurves",
    "MLP",
    "Trainer",
    "accuracy",
    "environment_summary",
    "get_device",
    "plot_history",
    "seed_everything",
    "use_book_style",
]
