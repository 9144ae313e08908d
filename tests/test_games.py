"""Unit tests of helpers.games: tic-tac-toe rules, minimax and players."""

import random

import numpy as np
import pytest

from helpers.games import (
    EMPTY,
    SYMMETRIES,
    encode,
    legal_moves,
    minimax_value,
    optimal_moves,
    perfect_player,
    play,
    play_game,
    random_player,
    reachable_positions,
    render,
    to_move,
    winner,
)


def board_from(text: str) -> tuple[int, ...]:
    marks = {"X": 1, "O": -1, ".": 0}
    return tuple(marks[c] for c in text.replace("\n", ""))


def test_rules():
    board = board_from("XX.\nOO.\n...")
    assert to_move(board) == 1
    assert legal_moves(board) == [2, 5, 6, 7, 8]
    assert winner(play(board, 2)) == 1
    assert legal_moves(play(board, 2)) == []
    with pytest.raises(ValueError, match="not legal"):
        play(board, 0)


def test_bad_board():
    with pytest.raises(ValueError, match="9 cells"):
        minimax_value((0,) * 8)
    with pytest.raises(ValueError, match="X moves first"):
        minimax_value((-1,) + (0,) * 8)


def test_positions_and_values():
    assert len(reachable_positions()) == 5478  # the known count, terminal positions included
    assert minimax_value(EMPTY) == 0  # tic-tac-toe is a draw
    assert minimax_value(board_from("XX.\nOO.\n...")) == 1  # X completes the row
    assert optimal_moves(board_from("XX.\nOO.\n...")) == [2]
    # O answered a corner opening with an adjacent edge: X wins
    assert minimax_value(board_from("XO.\n...\n...")) == 1


def test_perfect_never_loses():
    rng = random.Random(0)
    for _ in range(50):
        assert play_game(perfect_player(rng), random_player(rng)) >= 0
        assert play_game(random_player(rng), perfect_player(rng)) <= 0
    assert play_game(perfect_player(rng), perfect_player(rng)) == 0


def test_encode_and_symmetries():
    board = board_from("X..\n.O.\n...")
    planes = encode(board)
    assert planes.shape == (18,) and planes[0] == 1 and planes[9 + 4] == 1
    assert len(set(SYMMETRIES)) == 8 and SYMMETRIES[0] == tuple(range(9))
    for perm in SYMMETRIES:
        image = tuple(board[i] for i in perm)
        assert minimax_value(image) == minimax_value(board)
    assert np.array_equal(np.sort(list(SYMMETRIES[3])), np.arange(9))
    assert render(board) == "X..\n.O.\n..."
