"""Small reference models that several chapters reuse.

:class:`MLP` for vectors; :func:`digits_cnn` (with :class:`RandomShift`) for the 8×8 digits;
:class:`CharRNN` (plain RNN or LSTM) and
:class:`DecoderTransformer` (built from :class:`TransformerBlock`) as language models over
token ids, trained with :func:`next_token_loss` and continued with :func:`sample`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn


class MLP(nn.Sequential):
    """A multilayer perceptron: ``Linear -> ReLU (-> Dropout)`` per hidden layer, then ``Linear``.

    Args:
        in_features: size of each input vector (64 for the 8x8 digits).
        hidden: width of each hidden layer, e.g. ``(64, 64)``.
        out_features: number of outputs (class logits).
        dropout: dropout probability after each hidden activation; 0 disables it.
    """

    def __init__(
        self,
        in_features: int,
        hidden: Sequence[int],
        out_features: int,
        dropout: float = 0.0,
    ) -> None:
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        layers: list[nn.Module] = []
        width = in_features
        for size in hidden:
            layers += [nn.Linear(width, size), nn.ReLU()]
            if dropout:
                layers.append(nn.Dropout(dropout))
            width = size
        layers.append(nn.Linear(width, out_features))
        super().__init__(*layers)


# ------------------------------------------------------------------ sequence models
# Language models over token ids: ``model(tokens)`` maps a ``(batch, time)`` tensor of ids to
# ``(batch, time, vocab_size)`` logits, the logits at position t predicting token t + 1.
# Part 3 derives them (chapters/03_algorithms/05_rnn_lstm, 06_attention_transformer); the
# content-generation and scaling chapters train them on folk tunes.


RecurrentState = torch.Tensor | tuple[torch.Tensor, torch.Tensor]
"""The hidden state of ``nn.RNN`` (``h``) or of ``nn.LSTM`` (``(h, c)``)."""


class RandomShift(nn.Module):
    """During training, shift each 8×8 image by -1, 0 or +1 pixels along each axis.

    Input and output are ``(batch, 1, 8, 8)``; the pixels shifted in are 0. In ``eval()`` mode
    it is the identity. The shift of each image is drawn from PyTorch's global generator.
    """

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        padded = F.pad(x, (1, 1, 1, 1))
        shifted = torch.stack(
            [padded[:, :, i : i + 8, j : j + 8] for i in range(3) for j in range(3)],
            dim=1,
        )
        choice = torch.randint(9, (len(x),), device=x.device)
        return shifted[torch.arange(len(x), device=x.device), choice]


def digits_cnn(shift: bool = False) -> nn.Sequential:
    """The convolution chapter's CNN for flattened 8×8 digits: 64 pixels in, 10 logits out.

    Two 3×3 convolutions (32 and 64 channels, each followed by ReLU and 2×2 max pooling) and a
    linear layer; ``shift`` puts a :class:`RandomShift` in front (data augmentation).
    """
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        RandomShift() if shift else nn.Identity(),
        nn.Conv2d(1, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(64 * 2 * 2, 10),
    )


class CharRNN(nn.Module):
    """A recurrent language model: embedding -> ``num_layers`` RNN or LSTM layers -> linear.

    Args:
        vocab_size: number of distinct tokens (characters).
        embed_dim: size of each token's embedding.
        hidden_size: size of the recurrent state.
        num_layers: stacked recurrent layers.
        cell: ``"lstm"`` (gated cell state) or ``"rnn"`` (the plain tanh recurrence).
        dropout: dropout between stacked layers and before the output layer.
    """

    CELLS = {"rnn": nn.RNN, "lstm": nn.LSTM}

    def __init__(
        self,
        vocab_size: int,
        embed_dim: int = 64,
        hidden_size: int = 256,
        num_layers: int = 1,
        cell: str = "lstm",
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if cell not in self.CELLS:
            raise ValueError(f"cell must be one of {sorted(self.CELLS)}, got {cell!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {dropout}")
        self.embed = nn.Embedding(vocab_size, embed_dim)
        self.rnn = self.CELLS[cell](
            embed_dim,
            hidden_size,
            num_layers=num_layers,
            batch_first=True,
            dropout=dropout if num_layers > 1 else 0.0,
        )
        self.drop = nn.Dropout(dropout)
        self.head = nn.Linear(hidden_size, vocab_size)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, time, vocab_size)`` for ids of shape ``(batch, time)``."""
        return self.forward_with_state(tokens)[0]

    def forward_with_state(
        self, tokens: torch.Tensor, state: RecurrentState | None = None
    ) -> tuple[torch.Tensor, RecurrentState]:
        """Logits and the recurrent state after the last token, starting from ``state``.

        Feeding a sequence in pieces, each with the state the previous piece returned, gives
        the same logits as feeding it whole; :func:`sample` uses this to add one token a step.
        """
        states, state = self.rnn(self.embed(tokens), state)
        return self.head(self.drop(states)), state


class CausalSelfAttention(nn.Module):
    """Multi-head self-attention in which position t attends to positions <= t only.

    ``qkv`` projects each position to queries, keys and values for all heads at once;
    ``proj`` mixes the heads' outputs. The attention itself is
    ``softmax(Q K^T / sqrt(d_head) + causal mask) V``, computed by
    :func:`torch.nn.functional.scaled_dot_product_attention`.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float = 0.0) -> None:
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"d_model ({d_model}) must be divisible by n_heads ({n_heads})")
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        # (batch, time, d_model) -> queries, keys, values of shape (batch, heads, time, d_head)
        batch, time, d_model = x.shape
        q, k, v = self.qkv(x).split(d_model, dim=-1)
        return tuple(t.view(batch, time, self.n_heads, -1).transpose(1, 2) for t in (q, k, v))

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The weights ``softmax(Q K^T / sqrt(d_head) + causal mask)``: ``(batch, heads, t, t)``.

        Row ``t`` says how much position ``t`` takes from each position ``<= t``; ``forward``
        computes the same product without materializing it.
        """
        q, k, _ = self._heads(x)
        time = x.shape[1]
        scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5
        future = torch.ones(time, time, dtype=torch.bool, device=x.device).triu(1)
        return scores.masked_fill(future, float("-inf")).softmax(dim=-1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, time, d_model)`` -> ``(batch, time, d_model)``."""
        batch, time, d_model = x.shape
        q, k, v = self._heads(x)
        heads = F.scaled_dot_product_attention(
            q, k, v, is_causal=True, dropout_p=self.dropout if self.training else 0.0
        )
        return self.proj(heads.transpose(1, 2).reshape(batch, time, d_model))


class TransformerBlock(nn.Module):
    """A pre-norm decoder block: ``x + attn(ln1(x))``, then ``x + mlp(ln2(x))``.

    Args:
        d_model: width of the residual stream.
        n_heads: attention heads (``d_model`` must be divisible by it).
        mlp_ratio: the MLP's hidden width is ``mlp_ratio * d_model``.
        dropout: dropout on the attention weights and on each sub-layer's output.
    """

    def __init__(
        self, d_model: int, n_heads: int, mlp_ratio: int = 4, dropout: float = 0.0
    ) -> None:
        super().__init__()
        self.ln1 = nn.LayerNorm(d_model)
        self.attn = CausalSelfAttention(d_model, n_heads, dropout)
        self.ln2 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            nn.Linear(d_model, mlp_ratio * d_model),
            nn.GELU(),
            nn.Linear(mlp_ratio * d_model, d_model),
        )
        self.drop = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, time, d_model)`` -> ``(batch, time, d_model)``."""
        x = x + self.drop(self.attn(self.ln1(x)))
        return x + self.drop(self.mlp(self.ln2(x)))


class DecoderTransformer(nn.Module):
    """A decoder-only (GPT-style) Transformer language model.

    Token embedding plus a learned position embedding, ``n_layers`` :class:`TransformerBlock`
    s, a final LayerNorm and a linear head that shares its weights with the token embedding.

    Args:
        vocab_size: number of distinct tokens.
        block_size: the longest context the model accepts (positions it has embeddings for).
        d_model: width of the residual stream.
        n_heads: attention heads per block.
        n_layers: number of blocks.
        dropout: dropout after the embeddings and inside each block.
    """

    def __init__(
        self,
        vocab_size: int,
        block_size: int,
        d_model: int = 64,
        n_heads: int = 4,
        n_layers: int = 2,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        self.block_size = block_size
        self.tok_emb = nn.Embedding(vocab_size, d_model)
        self.pos_emb = nn.Embedding(block_size, d_model)
        self.drop = nn.Dropout(dropout)
        self.blocks = nn.Sequential(
            *(TransformerBlock(d_model, n_heads, dropout=dropout) for _ in range(n_layers))
        )
        self.ln_f = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab_size, bias=False)
        self.head.weight = self.tok_emb.weight  # weight tying (Press & Wolf, 2017)
        self.apply(_init_gpt_style)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Logits of shape ``(batch, time, vocab_size)`` for ids of shape ``(batch, time)``."""
        time = tokens.shape[1]
        if time > self.block_size:
            raise ValueError(
                f"sequence of length {time} is longer than block_size={self.block_size}"
            )
        positions = torch.arange(time, device=tokens.device)
        x = self.drop(self.tok_emb(tokens) + self.pos_emb(positions))
        return self.head(self.ln_f(self.blocks(x)))


def _init_gpt_style(module: nn.Module) -> None:
    # GPT-2's initialization: N(0, 0.02) weights and zero biases for linear layers and
    # embeddings. PyTorch's default N(0, 1) embedding, shared with the output head, would
    # start with logits of standard deviation about sqrt(d_model) and train far more slowly.
    if isinstance(module, (nn.Linear, nn.Embedding)):
        nn.init.normal_(module.weight, mean=0.0, std=0.02)
    if isinstance(module, nn.Linear) and module.bias is not None:
        nn.init.zeros_(module.bias)


def next_token_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy (nats per token) of ``(batch, time, vocab)`` logits against ids.

    Divide by ``ln 2`` for bits per token. Use it as the :class:`~helpers.Trainer`'s
    ``loss_fn`` for the language models above, with ``targets`` the inputs shifted by one.
    """
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1))


def bits_per_char(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """:func:`next_token_loss` in bits: the mean number of bits each next token costs.

    A :class:`~helpers.Trainer` metric for the character-level models.
    """
    return next_token_loss(logits, targets) / math.log(2)


@torch.no_grad()
def sample(
    model: nn.Module,
    prompt: Sequence[int] | torch.Tensor,
    steps: int,
    *,
    num_samples: int = 1,
    temperature: float = 1.0,
    top_k: int | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Continue ``prompt`` by ``steps`` tokens, drawn one at a time from a language model.

    Each step draws the next token of every sample from ``softmax(logits / temperature)``,
    restricted to the ``top_k`` likeliest tokens if given. A :class:`CharRNN` carries its
    recurrent state from step to step; any other model is fed the sequence so far (its last
    ``model.block_size`` tokens if it has that attribute). Draws use ``generator`` (on the CPU)
    so that a seeded generator makes them reproducible.

    Returns:
        ids of shape ``(num_samples, len(prompt) + steps)``: the prompt, then the samples.
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be at least 1, got {top_k}")
    device = next(model.parameters()).device
    prompt = torch.as_tensor(prompt, dtype=torch.long).flatten()
    if prompt.numel() == 0:
        raise ValueError("the prompt needs at least one token")
    tokens = prompt.repeat(num_samples, 1).to(device)
    was_training = model.training
    model.eval()
    recurrent = isinstance(model, CharRNN)
    state: RecurrentState | None = None
    feed = tokens
    context = getattr(model, "block_size", None)
    for _ in range(steps):
        if recurrent:
            logits, state = model.forward_with_state(feed, state)
        else:
            logits = model(tokens[:, -context:] if context else tokens)
        logits = logits[:, -1].float().cpu() / temperature
        if top_k is not None and top_k < logits.shape[-1]:
            kth = torch.topk(logits, top_k, dim=-1).values[:, -1:]
            logits = logits.masked_fill(logits < kth, float("-inf"))
        probs = torch.softmax(logits, dim=-1)
        feed = torch.multinomial(probs, 1, generator=generator).to(device)
        tokens = torch.cat([tokens, feed], dim=1)
    model.train(was_training)
    return tokens.cpu()
