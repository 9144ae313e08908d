import math

import pytest
import torch
import torch.nn.functional as F

from helpers import MLP, Trainer
from helpers.data import make_loader
from helpers.models import (
    CausalSelfAttention,
    CharRNN,
    DecoderTransformer,
    RandomShift,
    TransformerBlock,
    bits_per_char,
    digits_cnn,
    next_token_loss,
    sample,
)


def test_bits_per_char_is_the_loss_in_bits():
    targets = torch.tensor([[1, 2, 3]])
    uniform = torch.zeros(1, 3, 8)  # 8 equally likely characters: 3 bits each
    assert bits_per_char(uniform, targets).item() == pytest.approx(3.0)
    logits = torch.randn(2, 5, 8, generator=torch.Generator().manual_seed(0))
    targets = torch.randint(8, (2, 5), generator=torch.Generator().manual_seed(1))
    nats = next_token_loss(logits, targets).item()
    assert bits_per_char(logits, targets).item() == pytest.approx(nats / math.log(2))


def test_digits_cnn_shapes_parameters_and_shift():
    for shift in (False, True):
        model = digits_cnn(shift)
        assert model(torch.zeros(5, 64)).shape == (5, 10)
        expected = (32 * 9 + 32) + (64 * 32 * 9 + 64) + (256 * 10 + 10)
        assert sum(p.numel() for p in model.parameters()) == expected
    torch.manual_seed(0)
    assert torch.equal(
        digits_cnn(False)[2].weight, torch.manual_seed(0) and digits_cnn(True)[2].weight
    )


def test_random_shift_moves_each_image_by_at_most_one_pixel_and_only_in_training():
    image = torch.zeros(1, 1, 8, 8)
    image[0, 0, 4, 4] = 1.0
    shift = RandomShift()
    torch.manual_seed(0)
    seen = set()
    for _ in range(200):
        (row, col), *_ = torch.nonzero(shift(image)[0, 0]).tolist()
        seen.add((row - 4, col - 4))
    assert seen == {(i, j) for i in (-1, 0, 1) for j in (-1, 0, 1)}
    shift.eval()
    assert torch.equal(shift(image), image)


def test_mlp_shapes_and_parameter_count():
    model = MLP(64, (64, 64), 10)
    assert model(torch.zeros(5, 64)).shape == (5, 10)
    expected = (64 * 64 + 64) + (64 * 64 + 64) + (64 * 10 + 10)
    assert sum(p.numel() for p in model.parameters()) == expected


def test_mlp_rejects_bad_dropout():
    with pytest.raises(ValueError, match="dropout"):
        MLP(4, (8,), 2, dropout=1.0)


# ------------------------------------------------------------------ sequence models
VOCAB = 11


def tokens(batch: int = 3, time: int = 9, seed: int = 0) -> torch.Tensor:
    return torch.randint(VOCAB, (batch, time), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_char_rnn_gives_logits_per_position(cell):
    model = CharRNN(VOCAB, embed_dim=8, hidden_size=16, num_layers=2, cell=cell)
    assert model(tokens()).shape == (3, 9, VOCAB)


def test_char_rnn_rejects_an_unknown_cell():
    with pytest.raises(ValueError, match="cell must be one of"):
        CharRNN(VOCAB, cell="gru")


@pytest.mark.parametrize("cell", ["rnn", "lstm"])
def test_char_rnn_in_pieces_equals_whole(cell):
    torch.manual_seed(0)
    model = CharRNN(VOCAB, embed_dim=8, hidden_size=16, cell=cell).eval()
    x = tokens()
    first, state = model.forward_with_state(x[:, :4])
    rest, _ = model.forward_with_state(x[:, 4:], state)
    torch.testing.assert_close(torch.cat([first, rest], dim=1), model(x))


def test_causal_self_attention_equals_the_formula():
    torch.manual_seed(0)
    attn = CausalSelfAttention(d_model=8, n_heads=2).eval()
    x = torch.randn(2, 5, 8)
    q, k, v = attn.qkv(x).split(8, dim=-1)
    heads = []
    for h in range(2):
        cols = slice(4 * h, 4 * h + 4)
        scores = q[..., cols] @ k[..., cols].transpose(1, 2) / math.sqrt(4)
        future = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
        weights = scores.masked_fill(future, float("-inf")).softmax(dim=-1)
        heads.append(weights @ v[..., cols])
    expected = attn.proj(torch.cat(heads, dim=-1))
    torch.testing.assert_close(attn(x), expected, atol=1e-6, rtol=1e-5)


def test_attention_weights_are_causal_rows_that_reproduce_forward():
    torch.manual_seed(0)
    attn = CausalSelfAttention(d_model=8, n_heads=2).eval()
    x = torch.randn(2, 5, 8)
    weights = attn.attention_weights(x)
    assert weights.shape == (2, 2, 5, 5)
    torch.testing.assert_close(weights.sum(-1), torch.ones(2, 2, 5))
    assert torch.all(weights.triu(1) == 0)  # no position looks ahead
    _, _, v = attn.qkv(x).split(8, dim=-1)
    v = v.view(2, 5, 2, 4).transpose(1, 2)
    heads = (weights @ v).transpose(1, 2).reshape(2, 5, 8)
    torch.testing.assert_close(attn.proj(heads), attn(x), atol=1e-6, rtol=1e-5)


def test_causal_self_attention_rejects_indivisible_heads():
    with pytest.raises(ValueError, match="divisible"):
        CausalSelfAttention(d_model=10, n_heads=3)


def test_transformer_block_parameter_count():
    d = 16
    block = TransformerBlock(d, n_heads=4)
    layer_norms = 2 * 2 * d
    attention = (d * 3 * d + 3 * d) + (d * d + d)
    mlp = (d * 4 * d + 4 * d) + (4 * d * d + d)
    assert sum(p.numel() for p in block.parameters()) == layer_norms + attention + mlp


@pytest.mark.parametrize(
    "model",
    [
        CharRNN(VOCAB, embed_dim=8, hidden_size=16),
        DecoderTransformer(VOCAB, block_size=16, d_model=16, n_heads=2, n_layers=2),
    ],
    ids=["lstm", "transformer"],
)
def test_language_models_do_not_look_ahead(model):
    model.eval()
    x = tokens()
    changed = x.clone()
    changed[:, 6:] = (changed[:, 6:] + 1) % VOCAB
    torch.testing.assert_close(model(x)[:, :6], model(changed)[:, :6])
    assert not torch.allclose(model(x)[:, 6:], model(changed)[:, 6:])


def test_decoder_transformer_ties_weights_and_checks_length():
    model = DecoderTransformer(VOCAB, block_size=8, d_model=16, n_heads=2)
    assert model.head.weight is model.tok_emb.weight
    assert model(tokens(time=8)).shape == (3, 8, VOCAB)
    with pytest.raises(ValueError, match="longer than block_size=8"):
        model(tokens(time=9))


def test_next_token_loss_of_uniform_logits_is_log_vocab():
    logits = torch.zeros(2, 5, VOCAB)
    loss = next_token_loss(logits, tokens(2, 5))
    assert loss.item() == pytest.approx(math.log(VOCAB))


def test_sample_is_reproducible_and_keeps_the_prompt():
    torch.manual_seed(0)
    model = DecoderTransformer(VOCAB, block_size=6, d_model=16, n_heads=2)
    draws = [
        sample(model, [1, 2, 3], 10, num_samples=4, generator=torch.Generator().manual_seed(7))
        for _ in range(2)
    ]
    assert draws[0].shape == (4, 13)
    assert torch.equal(draws[0], draws[1])
    assert (draws[0][:, :3] == torch.tensor([1, 2, 3])).all()


@pytest.mark.parametrize(
    "model",
    [
        CharRNN(VOCAB, embed_dim=8, hidden_size=16),
        DecoderTransformer(VOCAB, block_size=32, d_model=16, n_heads=2),
    ],
    ids=["lstm", "transformer"],
)
def test_sample_with_top_1_is_greedy_decoding(model):
    torch.manual_seed(0)
    for p in model.parameters():  # non-trivial weights, so that argmax varies
        torch.nn.init.normal_(p, std=0.5)
    model.eval()
    greedy = [4]
    for _ in range(8):
        greedy.append(int(model(torch.tensor([greedy]))[0, -1].argmax()))
    assert sample(model, [4], 8, top_k=1)[0].tolist() == greedy


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"temperature": 0.0}, "temperature"), ({"top_k": 0}, "top_k")],
)
def test_sample_rejects_bad_settings(kwargs, message):
    model = CharRNN(VOCAB, embed_dim=8, hidden_size=16)
    with pytest.raises(ValueError, match=message):
        sample(model, [1], 3, **kwargs)
    with pytest.raises(ValueError, match="prompt"):
        sample(model, [], 3)


def test_trainer_fits_a_transformer_to_a_repeating_sequence():
    torch.manual_seed(0)
    period = torch.arange(VOCAB).repeat(40)  # 0 1 2 ... 10 0 1 2 ...: next token is known
    windows = period.unfold(0, 13, 1)  # (rows, 13) windows of the sequence
    loader = make_loader(windows[:, :-1], windows[:, 1:], batch_size=32, shuffle=True)
    model = DecoderTransformer(VOCAB, block_size=12, d_model=16, n_heads=2, n_layers=1)
    trainer = Trainer(
        model,
        torch.optim.Adam(model.parameters(), lr=1e-2, fused=True),
        next_token_loss,
        progress=False,
    )
    history = trainer.fit(loader, epochs=5)
    # from ln(11) = 2.40 nats at chance to a small fraction of it
    assert history["loss"][-1] < 0.1 * math.log(VOCAB)
    assert F.softmax(model(windows[:1, :-1])[0, -1], -1).max() > 0.9
