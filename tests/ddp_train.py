"""Train a fixed model with the Trainer and write its per-epoch losses as JSON.

Run alone (one process, global batch 32) or under ``torchrun --nproc_per_node=2`` (two
processes, 16 rows each); tests/test_training.py compares the two.
"""

import json
import sys

import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from helpers import Trainer, seed_everything
from helpers.training import cleanup_distributed

seed_everything(0, threads=1)
generator = torch.Generator().manual_seed(1)
X = torch.randn(128, 8, generator=generator)
y = (X[:, :2].sum(dim=1) > 0).long()
model = nn.Sequential(nn.Linear(8, 16), nn.Tanh(), nn.Linear(16, 2))
trainer = Trainer(
    model,
    torch.optim.SGD(model.parameters(), lr=0.5),
    nn.CrossEntropyLoss(),
    device="cpu",
    progress=False,
)
history = trainer.fit(DataLoader(TensorDataset(X, y), batch_size=32), epochs=4)
if trainer.rank == 0:
    with open(sys.argv[1], "w") as f:
        json.dump({"world_size": trainer.world_size, "losses": history["loss"]}, f)
cleanup_distributed()
