"""Tic-tac-toe rules, the exact minimax solver and simple players, for the game-AI chapter.

A position is a tuple of 9 ints, row by row: ``1`` for X, ``-1`` for O, ``0`` for empty. X
moves first, so the player to move follows from the position itself. Values are always from
the point of view of the player to move: ``+1`` a win with best play, ``0`` a draw, ``-1`` a
loss. The chapter ``chapters/05_code/10_game_ai.ipynb`` uses :func:`minimax_value` as the
ground truth and :func:`perfect_player` as the reference opponent, and writes Monte Carlo tree
search itself.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from functools import cache

import numpy as np

Board = tuple[int, ...]
Player = Callable[[Board], int]

EMPTY: Board = (0,) * 9
LINES = (
    (0, 1, 2),
    (3, 4, 5),
    (6, 7, 8),
    (0, 3, 6),
    (1, 4, 7),
    (2, 5, 8),
    (0, 4, 8),
    (2, 4, 6),
)


def _check(board: Board) -> None:
    if len(board) != 9 or any(cell not in (-1, 0, 1) for cell in board):
        raise ValueError(f"a board is 9 cells of -1, 0 or 1, got {board!r}")
    xs, os = board.count(1), board.count(-1)
    if xs - os not in (0, 1):
        raise ValueError(f"X moves first, so X has as many stones as O or one more: {board!r}")


def to_move(board: Board) -> int:
    """The player to move: ``1`` (X) when both have as many stones, else ``-1`` (O)."""
    return 1 if board.count(1) == board.count(-1) else -1


def winner(board: Board) -> int:
    """``1`` or ``-1`` if that player has three in a row, else ``0``."""
    for a, b, c in LINES:
        if board[a] != 0 and board[a] == board[b] == board[c]:
            return board[a]
    return 0


def is_terminal(board: Board) -> bool:
    """Whether the game is over: a line is complete or the board is full."""
    return winner(board) != 0 or 0 not in board


def legal_moves(board: Board) -> list[int]:
    """Indices of the empty cells (none once the game is over)."""
    if is_terminal(board):
        return []
    return [i for i, cell in enumerate(board) if cell == 0]


def play(board: Board, move: int) -> Board:
    """The position after the player to move puts a stone on cell ``move``."""
    if move not in legal_moves(board):
        raise ValueError(f"move {move} is not legal in {board!r}")
    cells = list(board)
    cells[move] = to_move(board)
    return tuple(cells)


def terminal_value(board: Board) -> int:
    """Value of a finished game for the player to move: ``-1`` if the opponent won, else 0."""
    return -1 if winner(board) != 0 else 0


@cache
def minimax_value(board: Board) -> int:
    """Exact value of ``board`` for the player to move (negamax over the whole game tree)."""
    _check(board)
    if is_terminal(board):
        return terminal_value(board)
    return max(-minimax_value(play(board, move)) for move in legal_moves(board))


def optimal_moves(board: Board) -> list[int]:
    """The legal moves that keep the minimax value of ``board``."""
    best = minimax_value(board)
    return [m for m in legal_moves(board) if -minimax_value(play(board, m)) == best]


def reachable_positions() -> list[Board]:
    """Every position reachable from the empty board by legal play, terminal ones included."""
    seen = {EMPTY}
    stack = [EMPTY]
    while stack:
        board = stack.pop()
        for move in legal_moves(board):
            child = play(board, move)
            if child not in seen:
                seen.add(child)
                stack.append(child)
    return sorted(seen)


def perfect_player(rng: random.Random) -> Player:
    """A player that picks uniformly, with ``rng``, among the minimax-optimal moves."""
    return lambda board: rng.choice(optimal_moves(board))


def random_player(rng: random.Random) -> Player:
    """A player that picks uniformly, with ``rng``, among the legal moves."""
    return lambda board: rng.choice(legal_moves(board))


def play_game(x_player: Player, o_player: Player, board: Board = EMPTY) -> int:
    """Play to the end from ``board``; return the winner (``1`` X, ``-1`` O, ``0`` draw)."""
    _check(board)
    while not is_terminal(board):
        player = x_player if to_move(board) == 1 else o_player
        board = play(board, player(board))
    return winner(board)


def encode(board: Board) -> np.ndarray:
    """Two 3x3 planes from the mover's view, flattened: own stones, then the opponent's."""
    cells = np.asarray(board, dtype=np.float32) * to_move(board)
    return np.concatenate([cells == 1, cells == -1]).astype(np.float32)


def _symmetries() -> tuple[tuple[int, ...], ...]:
    grid = np.arange(9).reshape(3, 3)
    perms = []
    for flip in (False, True):
        base = grid.T if flip else grid
        for k in range(4):
            perms.append(tuple(int(i) for i in np.rot90(base, k).ravel()))
    return tuple(perms)


SYMMETRIES = _symmetries()
"""The 8 symmetries of the square as index maps: cell ``i`` of the image is ``perm[i]``."""


def render(board: Board) -> str:
    """The board as three lines of ``X``, ``O`` and ``.``."""
    _check(board)
    marks = {1: "X", -1: "O", 0: "."}
    return "\n".join("".join(marks[c] for c in board[r : r + 3]) for r in (0, 3, 6))
