"""Tests of the tune-generation service in helpers.serving (in-process, no server)."""

import numpy as np
import pytest
from fastapi.testclient import TestClient
from safetensors.numpy import save_file

from helpers.data.folk_tunes import CharVocab
from helpers.ngram import CharNGram
from helpers.serving import (
    MAX_BATCH,
    MODEL_PATH_ENV,
    GenerateRequest,
    app_from_env,
    create_app,
    generate_batch,
    load_ngram,
    save_ngram,
)

TUNES = [
    "X:1\nM:6/8\nK:D\nABA dfe|fed e2d|ABA dfe|1 fed d3:|\n",
    "X:2\nM:4/4\nK:G\nGABc dBGB|cBAG FGAF|GABc dBGB|AGFA G4|]\n",
    "X:3\nM:3/4\nK:Em\nE2 GA B2|e2 dB AG|F2 AG FE|D2 E4|]\n",
]


@pytest.fixture(scope="module")
def vocab() -> CharVocab:
    return CharVocab.from_texts(TUNES)


@pytest.fixture(scope="module")
def model(vocab) -> CharNGram:
    return CharNGram(4, alpha=0.2).fit(vocab.encode_corpus(TUNES * 3), len(vocab))


@pytest.fixture(scope="module")
def model_path(model, vocab, tmp_path_factory):
    return save_ngram(tmp_path_factory.mktemp("model") / "ngram.safetensors", model, vocab)


@pytest.fixture(scope="module")
def client(model_path) -> TestClient:
    return TestClient(create_app(model_path))


def test_save_and_load_give_the_same_model(model, vocab, model_path) -> None:
    loaded, loaded_vocab = load_ngram(model_path)
    assert loaded_vocab.chars == vocab.chars
    assert (loaded.n, loaded.alpha, loaded.vocab_size) == (model.n, model.alpha, len(vocab))
    ids = vocab.encode_corpus(TUNES)
    assert np.array_equal(loaded.log2_probs(ids), model.log2_probs(ids))


def test_model_file_errors(model, vocab, tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_ngram(tmp_path / "missing.safetensors")
    with pytest.raises(ValueError, match="not fitted"):
        save_ngram(tmp_path / "m.safetensors", CharNGram(3), vocab)
    with pytest.raises(ValueError, match="vocabulary"):
        save_ngram(tmp_path / "m.safetensors", model, CharVocab("ab"))
    other = tmp_path / "other.safetensors"
    other.write_bytes(b"not a safetensors file")
    with pytest.raises(ValueError, match="not a safetensors file"):
        load_ngram(other)
    save_file({"x": np.zeros(3)}, str(other), metadata={"format": "something else"})
    with pytest.raises(ValueError, match="char-ngram"):
        load_ngram(other)


def test_next_distributions_equal_the_models(model, vocab) -> None:
    """A batch of contexts of mixed lengths gives each context's own distribution."""
    ids = vocab.encode(TUNES[1]).tolist()
    contexts = [[], ids[:1], ids[:2], ids[:7], [vocab.end, *ids[:3]]]
    probs = model.next_distributions(contexts)
    for row, context in zip(probs, contexts, strict=True):
        assert np.array_equal(row, model.next_distribution(context))


@pytest.mark.parametrize("temperature", [1.0, 0.7])
def test_a_batch_of_one_is_charngram_sample(model, vocab, temperature) -> None:
    request = GenerateRequest(prompt="X:1\n", max_chars=60, temperature=temperature, seed=3)
    (answer,) = generate_batch(model, vocab, [request])
    expected = model.sample(
        [vocab.end, *vocab.encode(request.prompt)],
        steps=60,
        rng=np.random.default_rng(3),
        temperature=temperature,
        stop=vocab.end,
    )
    assert answer.text == vocab.decode(expected[1:])
    assert answer.n_chars == len(expected) - 1 - len(request.prompt)
    assert answer.ended == (expected[-1] == vocab.end)


def test_batch_answers_do_not_depend_on_the_batch(model, vocab) -> None:
    requests = [
        GenerateRequest(prompt=p, max_chars=m, temperature=t, seed=s)
        for p, m, t, s in [("", 80, 1.0, 0), ("X:2\n", 5, 0.5, 1), ("K:D\nA", 40, 2.0, 2)]
    ]
    together = generate_batch(model, vocab, requests)
    alone = [generate_batch(model, vocab, [r])[0] for r in requests]
    assert together == alone
    assert together[1].n_chars <= 5


def test_health_and_generate(client) -> None:
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    body = {"prompt": "X:1\n", "max_chars": 50, "temperature": 0.8, "seed": 7}
    first = client.post("/generate", json=body)
    assert first.status_code == 200
    answer = first.json()
    assert answer["text"].startswith("X:1\n") and 1 <= answer["n_chars"] <= 50
    # the same seed gives the same text; other seeds give other texts
    assert client.post("/generate", json=body).json() == answer
    others = {client.post("/generate", json={**body, "seed": s}).json()["text"] for s in range(5)}
    assert len(others) > 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"max_chars": 0}, "max_chars"),
        ({"max_chars": 10_000}, "max_chars"),
        ({"max_chars": "many"}, "max_chars"),
        ({"temperature": 0}, "temperature"),
        ({"temperature": -1.0}, "temperature"),
        ({"seed": -1}, "seed"),
        ({"prompt": "x" * 501}, "prompt"),
        ({"prompt": "X:1\n€"}, "prompt"),
        ({"max_char": 5}, "max_char"),
    ],
)
def test_bad_fields_get_422_naming_the_field(client, change, field) -> None:
    response = client.post("/generate", json={"max_chars": 20, **change})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert error["msg"]
    # the service keeps serving
    assert client.post("/generate", json={"max_chars": 5}).status_code == 200


def test_batch_endpoint_and_its_cap(client) -> None:
    requests = [{"max_chars": 10, "seed": s} for s in range(MAX_BATCH)]
    full = client.post("/generate_batch", json={"requests": requests})
    assert full.status_code == 200
    results = full.json()["results"]
    assert len(results) == MAX_BATCH
    assert results[3] == client.post("/generate", json=requests[3]).json()
    too_many = client.post("/generate_batch", json={"requests": [*requests, requests[0]]})
    assert too_many.status_code == 422
    assert too_many.json()["detail"][0]["loc"] == ["body", "requests"]
    assert client.post("/generate_batch", json={"requests": []}).status_code == 422
    bad_prompt = [*requests[:2], {"prompt": "€"}]
    error = client.post("/generate_batch", json={"requests": bad_prompt}).json()["detail"]
    assert error[0]["loc"] == ["body", "requests", 2, "prompt"]


def test_app_from_env(model_path, monkeypatch) -> None:
    monkeypatch.delenv(MODEL_PATH_ENV, raising=False)
    with pytest.raises(ValueError, match=MODEL_PATH_ENV):
        app_from_env()
    monkeypatch.setenv(MODEL_PATH_ENV, str(model_path))
    assert TestClient(app_from_env()).get("/health").json()["status"] == "ok"
