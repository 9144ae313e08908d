"""Train the SASRec checkpoint that the sequential-recommendation chapter ships and evaluates.

    python tools/train_sasrec.py            # writes data/sasrec/

The chapter's own code (``helpers.next_item``) on the chapter's data (MovieLens, movies with at
least 20 ratings, leave-last-out): a grid over the number of blocks and the history length, each
run stopped early on the validation cross-entropy, the configuration chosen by validation
NDCG@10 at its stopping epoch. The test items are never read. Writes ``sasrec.safetensors`` and
``config.json`` (the chosen configuration, its validation scores and the weights' SHA-256) and
``training_log.csv`` (every epoch of every run). Under the portable numerics profile on one CPU
thread, which the script sets for itself, a rerun writes the same bytes on any x86-64 machine.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "data" / "sasrec"
MIN_RATINGS = 20
GRID = {"n_layers": (1, 2), "max_len": (50, 200)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=OUT, help="output folder")
    args = parser.parse_args()

    from helpers.next_item import SASRecConfig, fit_sasrec, movielens_sequences, save_sasrec

    frame, split = movielens_sequences(MIN_RATINGS)
    n_items = frame.item.nunique()
    rows, runs = [], {}
    for n_layers in GRID["n_layers"]:
        for max_len in GRID["max_len"]:
            config = SASRecConfig(n_layers=n_layers, max_len=max_len)
            start = time.perf_counter()
            model, history = fit_sasrec(split, n_items, config, progress=False)
            seconds = time.perf_counter() - start
            ndcg = history["val_NDCG@10"]
            best = max(range(len(ndcg)), key=ndcg.__getitem__)
            runs[n_layers, max_len] = (history["val_NDCG@10"][best], best + 1, config, model)
            for epoch in range(len(history["loss"])):
                rows.append(
                    {
                        "n_layers": n_layers,
                        "max_len": max_len,
                        "epoch": epoch + 1,
                        **{key: f"{values[epoch]:.6f}" for key, values in history.items()},
                    }
                )
            print(
                f"{n_layers} blocks, length {max_len}: best epoch {best + 1} of "
                f"{len(history['loss'])}, validation NDCG@10 {runs[n_layers, max_len][0]:.4f} "
                f"({seconds:.0f} s)",
                flush=True,
            )
    ndcg, epoch, config, model = max(runs.values(), key=lambda run: run[0])
    args.out.mkdir(parents=True, exist_ok=True)
    with open(args.out / "training_log.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    weights = save_sasrec(
        args.out,
        model,
        config,
        min_ratings=MIN_RATINGS,
        best_epoch=epoch,
        val_ndcg_at_10=round(ndcg, 6),
    )
    print(f"chose {config.n_layers} blocks, length {config.max_len}: wrote {weights}")


if __name__ == "__main__":
    # The numerics profile and the thread count must be in the environment before PyTorch
    # loads, so the script starts itself again with them if they are missing.
    if os.environ.get("BOOK_NUMERICS") != "portable" or os.environ.get("BOOK_THREADS") != "1":
        sys.path.insert(0, str(ROOT / "src"))
        from helpers.runtime import apply_numerics_profile

        apply_numerics_profile("portable")
        os.environ["BOOK_THREADS"] = "1"
        os.execv(sys.executable, [sys.executable, *sys.argv])
    main()
