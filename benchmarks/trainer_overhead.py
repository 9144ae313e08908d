"""How much does ``helpers.Trainer`` cost over a bare PyTorch loop, and how does Keras compare?

The same multilayer perceptron (64-64-64-10) is trained on scikit-learn's digits with the same
batch size, epochs, optimizer (Adam, lr 1e-3) and thread count three ways:

* ``bare``: the shortest correct PyTorch loop (forward, loss, backward, step, running loss);
* ``trainer``: :class:`helpers.Trainer` with its defaults (progress bar off);
* ``keras``: the same network built with Keras 3 (TensorFlow backend) and ``model.fit``.

Each method is warmed up for one epoch (Keras traces its graph then), then timed over
``--epochs`` epochs; the methods run interleaved (in alternating order), ``--repeats`` times.
It prints the median throughput (training samples per second) of each method and its ratio to
the bare loop: the median over repeats of the ratio between runs made back to back.

    python benchmarks/trainer_overhead.py                # about a minute on 2 CPU cores
    python benchmarks/trainer_overhead.py --no-keras     # PyTorch only
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn

from helpers import MLP, Trainer, seed_everything
from helpers.data import load_digits_split, make_loader

HIDDEN = (64, 64)
LEARNING_RATE = 1e-3


def standardized_digits() -> tuple[np.ndarray, np.ndarray]:
    """Training images scaled to zero mean and unit variance per pixel, and their labels."""
    split = load_digits_split(test_size=0.2, val_size=0.0, seed=0)
    mean, std = split.X_train.mean(0), split.X_train.std(0) + 1e-6
    return ((split.X_train - mean) / std).astype(np.float32), split.y_train


def bare_runner(X: np.ndarray, y: np.ndarray, batch_size: int) -> Callable[[int], None]:
    """A function that trains a PyTorch MLP for n epochs with a hand-written loop."""
    model = MLP(X.shape[1], HIDDEN, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)
    loss_fn = nn.CrossEntropyLoss()
    loader = make_loader(X, y, batch_size=batch_size, shuffle=True)

    def train(epochs: int) -> None:
        model.train()
        for _ in range(epochs):
            total = 0.0
            for inputs, targets in loader:
                loss = loss_fn(model(inputs), targets)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                total += loss.item() * len(targets)

    return train


def trainer_runner(X: np.ndarray, y: np.ndarray, batch_size: int) -> Callable[[int], None]:
    """A function that trains the same MLP for n more epochs with ``helpers.Trainer``."""
    model = MLP(X.shape[1], HIDDEN, 10)
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE, fused=True)
    trainer = Trainer(model, optimizer, nn.CrossEntropyLoss(), device="cpu", progress=False)
    loader = make_loader(X, y, batch_size=batch_size, shuffle=True)

    def train(epochs: int) -> None:
        trainer.fit(loader, epochs=trainer.epoch + epochs)

    return train


def keras_runner(
    X: np.ndarray, y: np.ndarray, batch_size: int, threads: int
) -> Callable[[int], None]:
    """A function that trains the same MLP for n epochs with Keras ``fit``."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    keras.utils.set_random_seed(0)
    layers = [keras.Input(shape=(X.shape[1],))]
    layers += [keras.layers.Dense(width, activation="relu") for width in HIDDEN]
    layers.append(keras.layers.Dense(10))
    model = keras.Sequential(layers)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )

    def train(epochs: int) -> None:
        model.fit(X, y, batch_size=batch_size, epochs=epochs, shuffle=True, verbose=0)

    return train


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=20, help="epochs per timed run")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=15, help="timed runs per method")
    parser.add_argument("--threads", type=int, default=2, help="intra-op threads for both")
    parser.add_argument("--no-keras", action="store_true", help="skip the Keras run")
    args = parser.parse_args()

    seed_everything(0, threads=args.threads)
    X, y = standardized_digits()
    runners = {
        "bare": bare_runner(X, y, args.batch_size),
        "trainer": trainer_runner(X, y, args.batch_size),
    }
    if not args.no_keras:
        runners["keras"] = keras_runner(X, y, args.batch_size, args.threads)

    for train in runners.values():  # warm-up: allocator, Keras graph tracing
        train(1)
    rates: dict[str, list[float]] = {name: [] for name in runners}
    samples = len(X) * args.epochs
    order = list(runners)
    for _ in range(args.repeats):
        for name in order:
            start = time.perf_counter()
            runners[name](args.epochs)
            rates[name].append(samples / (time.perf_counter() - start))
        order.reverse()  # alternate the order so that drift (heat, other load) favours no one

    print(
        f"MLP 64-{'-'.join(map(str, HIDDEN))}-10 on digits: {len(X)} training samples, "
        f"batch {args.batch_size}, {args.epochs} epochs per run, {args.repeats} runs, "
        f"{args.threads} threads, torch {torch.__version__}"
    )
    print(f"{'method':<10}{'samples/s (median)':>20}{'min':>10}{'max':>10}{'vs bare':>10}")
    ratios = {}
    for name, values in rates.items():
        # the ratio of two runs made back to back, then the median over repeats
        paired = [rate / bare for rate, bare in zip(values, rates["bare"], strict=True)]
        ratios[name] = statistics.median(paired)
        print(
            f"{name:<10}{statistics.median(values):>20,.0f}{min(values):>10,.0f}"
            f"{max(values):>10,.0f}{ratios[name]:>10.3f}"
        )
    overhead = 1 - ratios["trainer"]
    print(f"Trainer overhead vs bare loop: {overhead:+.1%} (target: within 3%)")


if __name__ == "__main__":
    main()
