"""Serve the book's character n-gram tune generator behind an HTTP API (FastAPI).

The chapter "Models as a service" (``chapters/06_future/03_model_serving.ipynb``) fits a
:class:`~helpers.ngram.CharNGram` on the folk tunes, saves it with :func:`save_ngram` (a
safetensors file: the count tables as arrays, the order, smoothing and characters as
metadata; no pickle), and runs :func:`create_app`'s service in a uvicorn process:

- ``GET /health``: ``{"status": "ok", ...}`` once the model is loaded;
- ``POST /generate``: one :class:`GenerateRequest` -> one :class:`Generation`;
- ``POST /generate_batch``: ``{"requests": [...]}`` (at most :data:`MAX_BATCH`) -> the same
  generations, computed together.

Bad input (a field out of its bounds, a wrong type, an unknown field, a character the model
has never seen) is answered with FastAPI's 422 whose ``detail`` names the field. Generation is
deterministic: a request's text depends only on the request (its ``seed`` seeds its own NumPy
generator), never on the other requests of a batch. :func:`generate_batch` draws the next
character of all unfinished requests at once, with the same arithmetic and the same draws as
:meth:`CharNGram.sample`, so a batch of one gives exactly what ``CharNGram.sample`` gives.

``uvicorn --factory helpers.serving:app_from_env`` serves the model whose path is in the
environment variable :data:`MODEL_PATH_ENV`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from safetensors import SafetensorError, safe_open
from safetensors.numpy import save_file

from .data.folk_tunes import CharVocab
from .ngram import CharNGram

MODEL_PATH_ENV = "BOOK_SERVING_MODEL"
"""The environment variable that holds the model file's path for :func:`app_from_env`."""
MAX_CHARS = 1000
"""The most characters one request may ask for."""
MAX_PROMPT_CHARS = 500
"""The longest prompt accepted."""
MAX_TEMPERATURE = 5.0
"""The highest sampling temperature accepted."""
MAX_BATCH = 32
"""The most requests one batch may hold."""
_FORMAT = "helpers.serving/char-ngram-v1"


# ------------------------------------------------------------------------------ model file


def save_ngram(path: str | Path, model: CharNGram, vocab: CharVocab) -> Path:
    """Write a fitted ``model`` and its ``vocab`` to a safetensors file; returns the path.

    Raises:
        ValueError: if the model is not fitted or its vocabulary size is not ``len(vocab)``.
    """
    tensors = model.count_tables()  # a ValueError if the model is not fitted
    if model.vocab_size != len(vocab):
        raise ValueError(f"the model has {model.vocab_size} tokens but the vocabulary {len(vocab)}")
    metadata = {
        "format": _FORMAT,
        "n": str(model.n),
        "alpha": repr(model.alpha),
        "chars": json.dumps("".join(vocab.chars)),
    }
    path = Path(path)
    save_file(tensors, str(path), metadata=metadata)
    return path


def load_ngram(path: str | Path) -> tuple[CharNGram, CharVocab]:
    """Read a model and its vocabulary written by :func:`save_ngram`.

    Raises:
        FileNotFoundError: if ``path`` does not exist.
        ValueError: if the file is not such a model file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with safe_open(str(path), framework="np") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}  # noqa: SIM118
    except SafetensorError as error:
        raise ValueError(f"{path} is not a safetensors file: {error}") from None
    if metadata.get("format") != _FORMAT:
        raise ValueError(f"{path} is not a {_FORMAT} file")
    vocab = CharVocab(json.loads(metadata["chars"]))
    model = CharNGram.from_count_tables(
        int(metadata["n"]), float(metadata["alpha"]), len(vocab), tensors
    )
    return model, vocab


# ------------------------------------------------------------------------------ generation


class GenerateRequest(BaseModel):
    """One request: continue ``prompt`` (ABC text; empty: a new tune) by sampling."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(
        "", max_length=MAX_PROMPT_CHARS, description="ABC text to continue; '' starts a tune"
    )
    max_chars: int = Field(200, ge=1, le=MAX_CHARS, description="most characters to add")
    temperature: float = Field(1.0, gt=0, le=MAX_TEMPERATURE, description="sampling T")
    seed: int = Field(0, ge=0, lt=2**63, description="seed of this request's generator")


class BatchRequest(BaseModel):
    """Several requests answered in one call, at most :data:`MAX_BATCH`."""

    model_config = ConfigDict(extra="forbid")

    requests: list[GenerateRequest] = Field(min_length=1, max_length=MAX_BATCH)


class Generation(BaseModel):
    """One answer: the prompt and what was added, and whether the tune ended."""

    text: str
    n_chars: int = Field(description="characters added to the prompt")
    ended: bool = Field(description="the model drew the end-of-tune token")


class BatchResponse(BaseModel):
    """The answers of a :class:`BatchRequest`, in its order."""

    results: list[Generation]


def generate_batch(
    model: CharNGram, vocab: CharVocab, requests: Sequence[GenerateRequest]
) -> list[Generation]:
    """Answer ``requests`` together: one vectorized step draws a character for each.

    Each request starts from the end-of-tune token followed by its prompt and draws with
    ``numpy.random.default_rng(seed)`` exactly as :meth:`CharNGram.sample` does (temperature,
    then ``rng.choice``'s inverse-CDF draw), stopping at the end token or after ``max_chars``.

    Raises:
        ValueError: naming the first prompt character that is not in the vocabulary.
    """
    tokens = [[vocab.end, *vocab.encode(r.prompt).tolist()] for r in requests]
    rngs = [np.random.default_rng(r.seed) for r in requests]
    temperatures = np.array([r.temperature for r in requests])
    limits = np.array([r.max_chars for r in requests])
    added = np.zeros(len(requests), dtype=np.int64)
    ended = np.zeros(len(requests), dtype=bool)
    while (active := np.flatnonzero(~ended & (added < limits))).size:
        probs = model.next_distributions([tokens[i][-model.n :] for i in active])
        hot = temperatures[active] != 1.0  # as CharNGram.sample: T = 1 uses probs as they are
        if hot.any():
            logits = np.log(probs[hot]) / temperatures[active][hot, None]
            scaled = np.exp(logits - logits.max(axis=1, keepdims=True))
            probs[hot] = scaled / scaled.sum(axis=1, keepdims=True)
        cdf = probs.cumsum(axis=1)
        cdf /= cdf[:, -1:]
        draws = np.array([rngs[i].random() for i in active])
        drawn = (cdf <= draws[:, None]).sum(axis=1)  # searchsorted(side="right"), per row
        for i, token in zip(active, drawn.tolist(), strict=True):
            tokens[i].append(token)
            added[i] += 1
            ended[i] = token == vocab.end
    return [
        Generation(text=vocab.decode(t[1:]), n_chars=int(n), ended=bool(e))
        for t, n, e in zip(tokens, added, ended, strict=True)
    ]


# ------------------------------------------------------------------------------ the service


def create_app(model_path: str | Path) -> FastAPI:
    """The FastAPI service of the model saved at ``model_path`` (loaded once, here).

    Raises:
        FileNotFoundError, ValueError: as :func:`load_ngram`.
    """
    model, vocab = load_ngram(model_path)
    app = FastAPI(title="Folk tune generator", version="1.0")
    known = set(vocab.chars)

    def answer(requests: Sequence[GenerateRequest], where: Sequence[tuple]) -> list[Generation]:
        """Generate, after a 422 naming every prompt (at ``where``) the model cannot read."""
        errors = [
            {
                "type": "value_error",
                "loc": loc,
                "msg": f"characters not in the model's vocabulary: {unknown}",
                "input": request.prompt,
            }
            for request, loc in zip(requests, where, strict=True)
            if (unknown := sorted(set(request.prompt) - known))
        ]
        if errors:
            raise RequestValidationError(errors)
        return generate_batch(model, vocab, requests)

    @app.get("/health")
    def health() -> dict:
        """Whether the service is up, and what it serves."""
        return {
            "status": "ok",
            "model": f"{model.n}-gram, alpha {model.alpha}",
            "vocab_size": model.vocab_size,
            "max_batch": MAX_BATCH,
        }

    @app.post("/generate")
    def generate(request: GenerateRequest) -> Generation:
        """Continue one prompt."""
        return answer([request], [("body", "prompt")])[0]

    @app.post("/generate_batch")
    def generate_many(batch: BatchRequest) -> BatchResponse:
        """Continue up to ``MAX_BATCH`` prompts in one call."""
        where = [("body", "requests", i, "prompt") for i in range(len(batch.requests))]
        return BatchResponse(results=answer(batch.requests, where))

    return app


def app_from_env() -> FastAPI:
    """:func:`create_app` for the path in :data:`MODEL_PATH_ENV` (``uvicorn --factory``).

    Raises:
        ValueError: if the variable is not set.
    """
    path = os.environ.get(MODEL_PATH_ENV)
    if not path:
        raise ValueError(f"set {MODEL_PATH_ENV} to the path of a model saved by save_ngram")
    return create_app(path)
