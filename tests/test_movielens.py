"""Tests of the MovieLens loaders in helpers.data.movielens."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from helpers.data.movielens import COLUMNS, load_movielens, load_movielens_files

FIXTURE = Path(__file__).parent / "fixtures" / "ml-latest-small"


def test_files_give_the_bundled_layout() -> None:
    frame = load_movielens_files(FIXTURE)
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 6
    assert frame.movieId.dtype == np.int64 and frame.rating.dtype == np.float64
    toy = frame[frame.movieId == 1].iloc[0]
    assert toy.title == "Toy Story" and toy.year == 1995.0
    assert toy.genres.split("|")[0] == "Adventure"
    lost = frame[frame.movieId == 3].iloc[0]
    assert lost.title == "City of Lost Children, The (Cité des enfants perdus, La)"
    assert np.isnan(frame[frame.movieId == 4].iloc[0].year)  # no year in the title


def test_bundled_ratings() -> None:
    frame = load_movielens()
    assert list(frame.columns) == COLUMNS
    assert len(frame) == 100_004
    assert frame.userId.nunique() == 671 and frame.movieId.nunique() == 9066
    assert frame.rating.between(0.5, 5.0).all()


@pytest.mark.parametrize("name", ["ratings.csv", "movies.csv"])
def test_missing_file_is_named(tmp_path: Path, name: str) -> None:
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    (tmp_path / name).unlink()
    with pytest.raises(FileNotFoundError, match=name):
        load_movielens_files(tmp_path)


def test_missing_column(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "ratings.csv").write_text("userId,movieId,timestamp\n1,1,964982703\n")
    with pytest.raises(ValueError, match="rating"):
        load_movielens_files(tmp_path)


def test_non_numeric_rating(tmp_path: Path) -> None:
    shutil.copytree(FIXTURE, tmp_path, dirs_exist_ok=True)
    (tmp_path / "ratings.csv").write_text(
        "userId,movieId,rating,timestamp\n1,1,4.0,964982703\n1,3,great,964981247\n"
    )
    with pytest.raises(ValueError, match="'great' in data row 2"):
        load_movielens_files(tmp_path)
