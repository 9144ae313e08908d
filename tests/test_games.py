"""Unit tests of helpers.games: tic-tac-toe rules, minimax, players and tree search."""

import random

import numpy as np
import pytest

from helpers.games import (
    EMPTY,
    SYMMETRIES,
    encode,
    is_terminal,
    legal_moves,
    mcts,
    minimax_value,
    most_visited,
    optimal_moves,
    perfect_player,
    play,
    play_game,
    puct,
    random_player,
    reachable_positions,
    render,
    rollout_evaluator,
    search_player,
    to_move,
    uct,
    visit_counts,
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


def exact_evaluator(board):
    """Uniform priors and the minimax value: a perfect 'network'."""
    moves = legal_moves(board)
    return {m: 1 / len(moves) for m in moves}, float(minimax_value(board))


WIN_NOW = board_from("XX.\nOO.\n...")  # X to move wins at 2 (and must: O threatens 5)
BLOCK = board_from("X..\nOO.\nX..")  # X to move must block at 5


@pytest.mark.parametrize("score", [uct, puct])
def test_search_counts_every_simulation_once(score):
    root = mcts(EMPTY, 60, rollout_evaluator(random.Random(0)), score)
    assert root.n == 60
    assert sum(visit_counts(root).values()) == 60
    assert set(visit_counts(root)) == set(legal_moves(EMPTY))


def test_uct_with_rollouts_takes_the_win_and_makes_the_block():
    for board, move in ((WIN_NOW, 2), (BLOCK, 5)):
        root = mcts(board, 300, rollout_evaluator(random.Random(1)), uct)
        assert most_visited(visit_counts(root)) == move, visit_counts(root)


def test_puct_with_an_exact_evaluator_plays_perfectly():
    player = search_player(50, exact_evaluator, puct)
    positions = [b for b in reachable_positions() if not is_terminal(b)]
    rng = random.Random(0)
    for board in rng.sample(positions, 60):
        assert player(board) in optimal_moves(board), render(board)
    for opponent_seed in range(5):  # and never loses a game against perfect play
        assert play_game(player, perfect_player(random.Random(opponent_seed))) >= 0
        assert play_game(perfect_player(random.Random(opponent_seed)), player) <= 0


def test_root_value_is_for_the_player_to_move():
    root = mcts(WIN_NOW, 100, exact_evaluator, puct)
    assert -root.w / root.n > 0.9  # X to move wins: the root's w is kept for O, who moved in
    assert root.children[2].w / root.children[2].n == 1.0


def test_root_noise_is_seeded_and_keeps_the_priors_a_distribution():
    def priors_after(seed):
        root = mcts(EMPTY, 0, exact_evaluator, puct, noise=(np.random.default_rng(seed), 1.0, 0.25))
        return [child.prior for child in root.children.values()]

    assert priors_after(3) == priors_after(3) != priors_after(4)
    assert sum(priors_after(3)) == pytest.approx(1.0)
    assert min(priors_after(3)) >= 0.75 / 9


def test_search_refuses_a_finished_game_and_a_negative_budget():
    with pytest.raises(ValueError, match="game is over"):
        mcts(board_from("XXX\nOO.\n..."), 10, exact_evaluator, puct)
    with pytest.raises(ValueError, match="at least 0"):
        mcts(EMPTY, -1, exact_evaluator, puct)
