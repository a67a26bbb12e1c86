"""The PyTorch MLP of the flavor benchmarks (the code file of its class, as logged)."""

import torch
from torch import nn


class DelayMLP(nn.Module):
    def __init__(self, inputs=4, hidden=64):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(inputs, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return torch.sigmoid(self.layers(x)).squeeze(-1)
