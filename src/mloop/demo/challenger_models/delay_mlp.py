"""Flight delays with a small PyTorch MLP: the airport and carrier one-hot encoded, the
numbers standardised with the training rows' means and deviations (missing: the mean)."""

import json

import numpy as np
import pandas as pd
import torch
from safetensors.torch import load_file
from torch import nn


def encode(frame, encoding):
    """The MLP's float32 matrix: standardised numbers, then one-hot categories."""
    parts = []
    for name in encoding["numbers"]:
        values = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype="float64")
        mean, std = encoding["mean"][name], encoding["std"][name]
        parts.append(np.nan_to_num((values - mean) / std, nan=0.0)[:, None])
    for name, categories in encoding["categories"].items():
        parts.append(frame[name].to_numpy()[:, None] == np.array(categories)[None, :])
    return torch.from_numpy(np.hstack(parts).astype("float32"))


class Net(nn.Module):
    def __init__(self, inputs, hidden=32):
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(inputs, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, 1),
        )

    def forward(self, x):
        return self.layers(x).squeeze(-1)


class DelayMLP:
    classes_ = np.array([0, 1])
    decided_by_proba = True

    def load_context(self, artifacts):
        with open(artifacts["encoding"]) as stream:
            self.encoding = json.load(stream)
        self.net = Net(self.encoding["inputs"], self.encoding["hidden"])
        self.net.load_state_dict(load_file(artifacts["weights"]), strict=True)
        self.net.eval()

    def predict_proba(self, frame):
        with torch.inference_mode():
            late = torch.sigmoid(self.net(encode(frame, self.encoding))).numpy()
        late = late.astype("float64")
        return np.column_stack([1.0 - late, late])

    def predict(self, frame):
        return self.classes_.take(self.predict_proba(frame).argmax(axis=1))
