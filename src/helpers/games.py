"""Tic-tac-toe rules, the exact minimax solver and simple players, for the game-AI chapter.

A position is a tuple of 9 ints, row by row: ``1`` for X, ``-1`` for O, ``0`` for empty. X
moves first, so the player to move follows from the position itself. Values are always from
the point of view of the player to move: ``+1`` a win with best play, ``0`` a draw, ``-1`` a
loss. The chapter ``chapters/05_code/10_game_ai.ipynb`` uses :func:`minimax_value` as the
ground truth and :func:`perfect_player` as the reference opponent, and Monte Carlo tree search
(:func:`mcts`) with either selection rule: :func:`uct` over random rollouts, or AlphaGo Zero's
:func:`puct` over a network's priors and values.
"""

from __future__ import annotations

import math
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


# ------------------------------------------------------------------- Monte Carlo tree search
Priors = dict[int, float]
Evaluator = Callable[[Board], tuple[Priors, float]]
"""``evaluate(board)`` -> (a prior for each legal move, a value for the player to move)."""


class Node:
    """A position in the search tree, with its visit count ``n`` and total value ``w``.

    ``w`` is kept for the player who moved *into* the node, so a parent picks the child with
    the highest ``w / n``; ``children`` is ``{move: Node}`` once the node is expanded.
    """

    __slots__ = ("board", "prior", "n", "w", "children")

    def __init__(self, board: Board, prior: float) -> None:
        self.board, self.prior = board, prior
        self.n, self.w = 0, 0.0
        self.children: dict[int, Node] | None = None


Score = Callable[[Node, Node], float]
"""``score(parent, child)``: the selection rule; the child with the highest score is followed."""


def expand(node: Node, priors: Priors) -> None:
    """Give ``node`` one child per move of ``priors``, each with its prior."""
    node.children = {m: Node(play(node.board, m), p) for m, p in priors.items()}


def mcts(
    board: Board,
    n_simulations: int,
    evaluate: Evaluator,
    score: Score,
    noise: tuple[np.random.Generator, float, float] | None = None,
) -> Node:
    """The root of the search tree from ``board`` after ``n_simulations`` simulations.

    Each simulation selects a path by ``score``, expands and evaluates the leaf it reaches (a
    finished game is scored by its result), and backs the value up the path, flipping its sign
    at every level. ``noise`` is ``(generator, alpha, epsilon)``: the root's priors are mixed
    with Dirichlet(alpha) noise in the share ``epsilon``, as in AlphaGo Zero's self-play.
    """
    _check(board)
    if is_terminal(board):
        raise ValueError("the game is over: there is no move to search")
    if n_simulations < 0:
        raise ValueError(f"n_simulations must be at least 0, got {n_simulations}")
    root = Node(board, 1.0)
    priors, _ = evaluate(board)
    if noise is not None:
        rng, alpha, eps = noise
        eta = rng.dirichlet([alpha] * len(priors))
        priors = {m: (1 - eps) * p + eps * e for (m, p), e in zip(priors.items(), eta, strict=True)}
    expand(root, priors)
    for _ in range(n_simulations):
        node, path = root, [root]
        while node.children:  # select
            parent = node
            node = max(parent.children.values(), key=lambda c: score(parent, c))
            path.append(node)
        if is_terminal(node.board):
            value = float(terminal_value(node.board))
        else:  # expand and evaluate; value is for the player to move at node
            priors, value = evaluate(node.board)
            expand(node, priors)
        for visited in reversed(path):  # back up, flipping the sign at every level
            visited.n += 1
            visited.w -= value
            value = -value
    return root


def visit_counts(root: Node) -> dict[int, int]:
    """``{move: visits}`` of the root's children."""
    if root.children is None:
        raise ValueError("the node was never expanded")
    return {m: child.n for m, child in root.children.items()}


def most_visited(visits: dict[int, int] | Priors) -> int:
    """The move with the most visits (or the highest prior); ties go to the lowest move."""
    return max(visits, key=visits.get)


def uct(parent: Node, child: Node, c: float = 1.4) -> float:
    """UCT: ``Q + c sqrt(ln N(parent) / N(child))``, infinite for an unvisited child."""
    if child.n == 0:
        return math.inf
    return child.w / child.n + c * math.sqrt(math.log(parent.n) / child.n)


def puct(parent: Node, child: Node, c: float = 1.5) -> float:
    """PUCT: ``Q + c P sqrt(N(parent)) / (1 + N(child))``, with ``Q = 0`` before a visit."""
    q = child.w / child.n if child.n else 0.0
    return q + c * child.prior * math.sqrt(parent.n) / (1 + child.n)


def rollout_evaluator(rng: random.Random) -> Evaluator:
    """Uniform priors, and as value the result of one random game from the position."""

    def evaluate(board: Board) -> tuple[Priors, float]:
        moves = legal_moves(board)
        mover, end = to_move(board), board
        while not is_terminal(end):
            end = play(end, rng.choice(legal_moves(end)))
        return {m: 1 / len(moves) for m in moves}, winner(end) * mover

    return evaluate


def search_player(n_simulations: int, evaluate: Evaluator, score: Score) -> Player:
    """A player that plays the most visited move of a fresh search from each position."""

    def player(board: Board) -> int:
        return most_visited(visit_counts(mcts(board, n_simulations, evaluate, score)))

    return player
