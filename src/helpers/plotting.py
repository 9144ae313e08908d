"""The book's figure style, training curves and a live plot that updates during training."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure

BOOK_STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titleweight": "bold",
    "legend.frameon": False,
    "font.size": 10,
}


def use_book_style() -> None:
    """Apply the book's matplotlib style (called once in each chapter's setup cell).

    In a Jupyter kernel it also stores inline figures as plain PNG at the style's 100 dpi:
    some libraries (music21 on import) switch Jupyter to double-size "retina" PNGs.
    """
    plt.rcParams.update(BOOK_STYLE)
    try:
        from IPython import get_ipython
    except ImportError:  # plain Python without IPython
        return
    shell = get_ipython()
    if shell is not None and type(shell).__name__ == "ZMQInteractiveShell":
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")


def plot_history(
    history: Mapping[str, Sequence[float]],
    keys: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "Training curves",
    best_epoch: int | None = None,
) -> Axes:
    """Plot per-epoch values from a :class:`helpers.training.Trainer` history.

    ``keys`` picks the series (default: every loss); ``best_epoch`` marks the epoch whose
    weights early stopping kept.
    """
    keys = list(keys) if keys is not None else [k for k in history if k.endswith("loss")]
    missing = [k for k in keys if k not in history]
    if missing:
        raise KeyError(f"history has no {missing}; it has {sorted(history)}")
    if ax is None:
        _, ax = plt.subplots()
    for key in keys:
        values = history[key]
        ax.plot(range(1, len(values) + 1), values, marker="o", markersize=3, label=key)
    if best_epoch is not None:
        ax.axvline(best_epoch, color="grey", linestyle="--", label=f"best epoch ({best_epoch})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(", ".join(sorted({_quantity(k) for k in keys})))
    ax.set_title(title)
    ax.legend()
    return ax


def _quantity(key: str) -> str:
    return key.removeprefix("val_")


class LiveCurves:
    """A training-curve figure that redraws in place after every epoch.

    Pass an instance in ``Trainer(callbacks=[...])``. In a notebook the figure is shown once
    and updated through a display handle (stored notebooks keep the last frame); outside
    IPython the figure is kept in :attr:`figure` without being shown.
    """

    def __init__(self, keys: Sequence[str] = ("loss", "val_loss"), title: str = "Live curves"):
        self.keys = list(keys)
        self.title = title
        self.figure: Figure
        self.figure, self.ax = plt.subplots()
        plt.close(self.figure)  # the handle shows it, not the inline backend at cell end
        self._handle = None

    def __call__(self, epoch: int, history: Mapping[str, Sequence[float]]) -> None:
        self.ax.clear()
        plot_history(
            history,
            [k for k in self.keys if k in history],
            ax=self.ax,
            title=f"{self.title} (epoch {epoch})",
        )
        self._show()

    def _show(self) -> None:
        try:
            from IPython import get_ipython
            from IPython.display import display
        except ImportError:
            return
        if get_ipython() is None:
            return
        if self._handle is None:
            self._handle = display(self.figure, display_id=True)
        else:
            self._handle.update(self.figure)
