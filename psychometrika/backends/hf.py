"""The ``transformers`` backend: the embedded SmolLM2 (GGUF) or any local model folder / hub id.

Score mode computes, for every request, the log-probability of each candidate continuation after the
chat-templated prompt (assistant turn opened), summed over the continuation's tokens -- the quantity
lm-eval-harness calls ``loglikelihood``. When every continuation is a single token (the usual case for
option labels "1".."5" or "A".."E") one forward pass over the prompt gives all of them; otherwise every
continuation becomes a row of its own (prompt + continuation), and the rows of one prompt share its cached
prefix like the items of a study do.

Single-token option scoring runs left-padded batches with explicit position ids and keeps only the last
positions' logits (``logits_to_keep``); with prefix sharing each row attends to its group's cached prefix
(right-padded prefix caches, masked). For Llama-layout models these passes use the lean forward of
:mod:`.llama_forward` (``forward="auto"``). Generation is left-padded.
Everything runs under ``torch.inference_mode``.

Example::

    from psychometrika.backends import make_backend, ScoreRequest
    be = make_backend("transformers", model="embedded")            # SmolLM2-135M-Instruct, CPU, float32
    msgs = ({"role": "user", "content": "Answer 1-5: I am talkative."},)
    be.score([ScoreRequest("k", msgs, ("1", "2", "3", "4", "5"))])[0].logprobs
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import os
import threading
import time
from pathlib import Path
from typing import Any, Sequence

from ..errors import BackendError
from .chat import common_head, encode_generate_requests, encode_score_request, render_chat, special_start
from .base import (GenerateRequest, check_unique_keys, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult, Steering,
                   active_steering)
from ..models.embedded import EMBEDDED_ID, embedded_gguf, is_embedded, weights_sha256
from ..models.size import parameter_count

_DTYPES = {"bfloat16": "bfloat16", "bf16": "bfloat16", "float16": "float16", "fp16": "float16", "half": "float16",
           "float32": "float32", "fp32": "float32", "float": "float32"}

# Loaded (model, tokenizer) pairs shared by the open backends of one process (a load takes seconds to minutes on
# 2 cores), with the number of open backends using each. When the last one closes, the entry is dropped and the weights
# freed, unless the process keeps them (KEEP_WEIGHTS_ENV=1, or keep_weights(True)).
_CACHE: dict[tuple[str, str, str], tuple[Any, Any]] = {}
_USERS: dict[tuple[str, str, str], int] = {}
_LOCK = threading.Lock()
#: environment variable that keeps models loaded after their last backend closed (e.g. a test session)
KEEP_WEIGHTS_ENV = "PSYCHOMETRIKA_KEEP_WEIGHTS"
_keep: bool | None = None


def keep_weights(keep: bool | None = True) -> None:
    """Keep loaded models in memory after their last backend is closed (``True``), so that the next backend of
    the same model in this process starts at once; ``False`` frees them on the last ``close()``; ``None``
    follows ``$PSYCHOMETRIKA_KEEP_WEIGHTS`` (the default: free them)."""
    global _keep
    _keep = keep


def _keeping() -> bool:
    return _keep if _keep is not None else os.environ.get(KEEP_WEIGHTS_ENV) == "1"


#: ``dtype: auto`` on a CPU keeps models above this many parameters in bfloat16 (measured for a 1.5 B model:
#: benchmarks/bench_dtype.py, docs/benchmarks.md), smaller ones in float32 (faster on the CI CPU)
BF16_ABOVE_PARAMETERS = 1_000_000_000


def auto_dtype(device: str, n_parameters: int | None) -> tuple[str, str | None, str]:
    """``(weights dtype, compute dtype, reason)`` of ``dtype: auto``: bfloat16 on CUDA; on a CPU, for a model
    of more than :data:`BF16_ABOVE_PARAMETERS` parameters (counted from the weights' headers before loading),
    weights stored in bfloat16 and the lean forward's arithmetic in float32 (``compute_dtype``); float32
    otherwise, or when the count cannot be read (a hub id). Compute dtype None: the weights'."""
    if device.startswith("cuda"):
        return "bfloat16", None, "auto: bfloat16 on CUDA"
    if n_parameters is not None and n_parameters > BF16_ABOVE_PARAMETERS:
        return "bfloat16", "float32", (f"auto: bfloat16 weights, float32 arithmetic on CPU for "
                                       f"{n_parameters / 1e9:.2f} B parameters (> {BF16_ABOVE_PARAMETERS / 1e9:g} B)")
    size = "unknown size" if n_parameters is None else f"{n_parameters / 1e9:.2f} B parameters"
    return "float32", None, f"auto: float32 on CPU ({size})"


#: OpenMP wait policies (``OMP_WAIT_POLICY``) the ``omp_wait_policy`` setting takes; ``unset`` leaves libgomp's
#: default (spin a while, then sleep)
OMP_WAIT_POLICIES = ("passive", "active", "unset")
#: the policy used when neither the setting nor the environment names one (measured in docs/benchmarks.md: on a
#: busy 2-core machine spinning threads made one item's forward pass 6x slower)
DEFAULT_OMP_WAIT_POLICY = "passive"
_UNSET = "unset (libgomp default: spin a while, then sleep)"


def _omp_wait_policy(requested: str | None) -> str:
    """Apply the OpenMP wait policy of torch's CPU threads and return the effective one.

    ``requested`` ``None`` means ``$OMP_WAIT_POLICY`` when it is set, else :data:`DEFAULT_OMP_WAIT_POLICY`.
    libgomp reads ``OMP_WAIT_POLICY`` once, when ``import torch`` loads it, so a policy can take effect only while
    torch is not imported yet (it is then put in the environment). When torch already runs under another policy,
    an explicitly requested one gives a warning; the effective policy -- what the manifest records -- is the one
    torch runs under."""
    import sys

    current = os.environ.get("OMP_WAIT_POLICY")
    if requested is None:
        want = current.lower() if current else DEFAULT_OMP_WAIT_POLICY
    else:
        want = str(requested).lower()
        if want not in OMP_WAIT_POLICIES:
            raise BackendError(f"omp_wait_policy must be one of {', '.join(OMP_WAIT_POLICIES)}, not {requested!r}")
    if "torch" not in sys.modules:
        if want == "unset":
            os.environ.pop("OMP_WAIT_POLICY", None)
            return _UNSET
        os.environ["OMP_WAIT_POLICY"] = current = want
    elif requested is not None and (current or "unset").lower() != want:
        import warnings

        warnings.warn(f"omp_wait_policy {want!r} cannot take effect: torch was imported before the backend "
                      f"was built (OMP_WAIT_POLICY={current or 'unset'}); set OMP_WAIT_POLICY={want} in the "
                      "environment before Python starts", UserWarning, stacklevel=3)
    return current.lower() if current else _UNSET


def _check_forward(forward: str, attention: str) -> None:
    if forward not in {"auto", "transformers"}:
        raise BackendError(f"forward must be 'auto' or 'transformers', not {forward!r}")
    from .llama_forward import LlamaForward  # torch-free at import

    if attention not in LlamaForward.ATTENTION:
        raise BackendError(f"attention must be one of {', '.join(LlamaForward.ATTENTION)}, not {attention!r}")


def _resolve(model: str | None, gguf_file: str | None) -> tuple[str, str | None, str, str]:
    """-> (name or folder for from_pretrained, gguf file name or None, model id for the manifest, weights path)."""
    if is_embedded(model):
        path = embedded_gguf()
        return str(path.parent), path.name, EMBEDDED_ID, str(path)
    assert model is not None
    p = Path(model).expanduser()
    if p.is_file() and p.suffix == ".gguf":
        return str(p.parent), p.name, model, str(p)
    if p.is_dir():
        if gguf_file:
            return str(p), gguf_file, model, str(p / gguf_file)
        return str(p), None, model, str(p)
    if p.suffix == ".gguf" or model.startswith((".", "/", "~")):
        raise BackendError(f"model path {model!r} does not exist",
                           hint="give an existing folder, a .gguf file, a hub id, or 'embedded'")
    return model, gguf_file, model, ""  # hub id; resolved from the local HF cache when offline


class TransformersBackend:
    """Hugging Face ``transformers`` causal LM backend.

    Args:
        model: ``None``/``"embedded"`` for the shipped SmolLM2-135M-Instruct GGUF, a local folder, a ``.gguf``
            file, or a hub id (needs the weights in the local cache when offline).
        dtype: ``auto`` (default, :func:`auto_dtype`: ``bfloat16`` on CUDA; on CPU ``float32`` up to 1 B
            parameters -- on this project's 2-core CI CPU dense bf16 was 10x and packed-GGUF bf16 5x slower than
            float32 for the 135 M SmolLM2 -- and ``bfloat16`` above, where float32 weights outgrow the memory
            (1.5 B: 9.2 GB; numbers in docs/benchmarks.md)), ``bfloat16``, ``float16``, ``float32``.
        device: ``cpu``, ``cuda``, ``cuda:N`` or ``auto`` (CUDA when available).
        batch_size: prompts per forward pass.
        threads: torch CPU threads (default: torch's own choice, one per physical core). The manifest records
            the effective number.
        omp_wait_policy: ``passive``, ``active`` or ``unset`` (libgomp's default): how torch's idle OpenMP
            threads wait (``OMP_WAIT_POLICY``; default: the environment's, else ``passive``, measured 6x faster
            on a busy 2-core machine, see docs/benchmarks.md). It takes effect only when the backend is built
            before torch is imported in the process (a requested one that cannot gives a warning); the manifest
            records the effective policy.
        gguf_file: GGUF file name inside a model folder.
        trust_remote_code: passed to ``from_pretrained``.
        prefix_sharing: score prompts that share a long token prefix (persona, instructions, response scale)
            by computing the prefix's KV cache once and running only the suffixes, batched (see
            :meth:`_score_single`). Results equal unshared scoring up to float rounding.
        min_prefix: shortest shared prefix (tokens) worth caching.
        dequantize: unpack a GGUF file's quantized weights into dense ``dtype`` weights at load time (the
            default: fastest on CPU; 135 M parameters take 270 MB in bf16). ``False`` keeps them packed.
        forward: ``auto`` (default) scores Llama-layout models (Llama, Mistral, Qwen2; the embedded SmolLM2)
            with psychometrika's lean forward pass (:mod:`.llama_forward`: prefix attention without per-row
            copies, fused projections); ``transformers`` always uses the model's own forward.
        weights_cache: load a GGUF file (with ``dequantize``) from its dense safetensors conversion in the user
            cache (:func:`psychometrika.models.convert.cached_conversion`: keyed by the file's sha256 and the
            dtype; the first run converts it once). Scores equal those of loading the GGUF itself; the start is
            about 10x shorter. ``False`` always loads the GGUF.
        compile: ``torch.compile`` the lean forward's decoder layer (opt-in: fuses the elementwise kernels;
            the first batches pay the compile time).
        compute_dtype: the lean forward's arithmetic dtype when it differs from the weights' (``float32`` with
            ``dtype: bfloat16``: weights stored in half the memory, widened layer by layer; see
            :class:`.llama_forward.LlamaForward`). ``dtype: auto`` sets it for models above 1 B parameters on CPU.
        attention: the lean forward's attention: ``sdpa`` (default, PyTorch's fused kernels) or ``matmul``
            (explicit blocks, a shared prefix never copied per row; see :class:`.llama_forward.LlamaForward`).
    """

    name = "transformers"
    #: requests may carry a :class:`~.base.Steering` (added to the residual stream; see :meth:`_steered`)
    supports_steering = True
    _steer: dict[int, Any] | None = None

    def __init__(self, model: str | None = None, *, dtype: str = "auto", device: str = "cpu",
                 batch_size: int = 16, threads: int | None = None, gguf_file: str | None = None,
                 trust_remote_code: bool = False, max_length: int | None = None, prefix_sharing: bool = True,
                 min_prefix: int = 16, dequantize: bool = True, forward: str = "auto",
                 compile: bool = False, attention: str = "sdpa", weights_cache: bool = True,
                 omp_wait_policy: str | None = None, compute_dtype: str | None = None) -> None:
        wait = _omp_wait_policy(omp_wait_policy)  # before torch starts OpenMP
        try:
            import torch
            import transformers  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise BackendError(f"the transformers backend needs torch and transformers ({exc})",
                               hint="pip install 'psychometrika[llm]'") from exc
        for what, value in (("dtype", dtype), ("compute_dtype", compute_dtype)):
            if value not in (None, "auto") and value not in _DTYPES:
                raise BackendError(f"unknown {what} {value!r}; choose one of {sorted(set(_DTYPES))}")
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(f"device {device!r} requested but CUDA is not available", hint="use device: cpu")
        if batch_size < 1:
            raise BackendError("batch_size must be at least 1")
        _check_forward(forward, attention)
        if threads:
            torch.set_num_threads(int(threads))
        self._torch = torch
        self.batch_size = int(batch_size)
        self.prefix_sharing = bool(prefix_sharing)
        self.min_prefix = int(min_prefix)
        self.device = device
        folder, gguf, model_id, weights = _resolve(model, gguf_file)
        self.dequantize = bool(dequantize)
        self.forward, self.compile, self.attention = forward, bool(compile), attention
        self.dtype_rule = ""
        if dtype == "auto":
            dtype, auto_compute, self.dtype_rule = auto_dtype(device, parameter_count(weights) if weights else None)
            compute_dtype = compute_dtype or auto_compute
        self.dtype = _DTYPES[dtype]
        self.compute_dtype = _DTYPES[compute_dtype] if compute_dtype else None
        source = folder if gguf is None else f"{folder}/{gguf}"
        sha = ""
        model_obj = tokenizer = None
        cache: dict[str, Any] = {"weights_cache": "off"} if gguf else {}
        if gguf and self.dequantize and weights_cache:
            from ..models.convert import gguf_identity

            sha = gguf_identity(weights)
            model_obj, tokenizer, cache = self._load_cached(weights, sha, trust_remote_code)
        if model_obj is None:
            model_obj, tokenizer = self._load(folder, gguf, trust_remote_code)
        self._attach(model_obj, tokenizer, max_length, model_id, sha or (weights_sha256(weights) if weights else ""),
                     source)
        self.info.extra.update(cache)
        self.info.extra.update(threads=int(torch.get_num_threads()), omp_wait_policy=wait)

    def _load_cached(self, weights: str, sha: str, trust_remote_code: bool) -> tuple[Any, Any, dict[str, Any]]:
        """Load a GGUF's dense conversion from the user cache (:func:`.models.convert.cached_conversion`),
        converting it first when the cache has none; a cached folder that fails to load is built again once.
        Returns ``(model, tokenizer, what the manifest records)``; an unusable cache (not writable) gives
        ``(None, None, {"weights_cache": "off (why)"})`` and the caller loads the GGUF itself."""
        from ..models.convert import cached_conversion

        t0 = time.perf_counter()
        try:
            folder, converted = cached_conversion(weights, self.dtype, sha256=sha)
        except OSError as exc:
            return None, None, {"weights_cache": f"off ({type(exc).__name__}: {exc})"}
        state = "converted" if converted else "hit"
        try:
            model_obj, tokenizer = self._load(str(folder), None, trust_remote_code)
        except BackendError as exc:
            if converted:
                raise
            try:  # a damaged cached folder (same sizes, other bytes): convert again, once
                folder, _ = cached_conversion(weights, self.dtype, sha256=sha, rebuild=True)
            except OSError:
                raise exc from None
            state = "rebuilt"
            model_obj, tokenizer = self._load(str(folder), None, trust_remote_code)
        info: dict[str, Any] = {"weights_cache": state, "loaded_from": str(folder)}
        if state != "hit":
            info["conversion_s"] = round(time.perf_counter() - t0, 1)
        return model_obj, tokenizer, info

    @classmethod
    def from_model(cls, model: Any, tokenizer: Any, *, model_id: str = "in-memory", device: str = "cpu",
                   batch_size: int = 16, prefix_sharing: bool = True, min_prefix: int = 16,
                   max_length: int | None = None, forward: str = "auto", compile: bool = False,
                   attention: str = "sdpa", compute_dtype: str | None = None) -> "TransformersBackend":
        """A backend around an already loaded ``transformers`` model and tokenizer (benchmarks with random
        weights of a real shape, models built in a notebook). Its dtype is the model's."""
        import torch

        self = cls.__new__(cls)
        self._torch = torch
        if compute_dtype is not None and compute_dtype not in _DTYPES:
            raise BackendError(f"unknown compute_dtype {compute_dtype!r}; choose one of {sorted(set(_DTYPES))}")
        self.compute_dtype = _DTYPES[compute_dtype] if compute_dtype else None
        self.batch_size, self.prefix_sharing, self.min_prefix = int(batch_size), bool(prefix_sharing), int(min_prefix)
        _check_forward(forward, attention)
        self.device, self.dequantize = device, False
        self.forward, self.compile, self.attention = forward, bool(compile), attention
        self.dtype = str(next(model.parameters()).dtype).replace("torch.", "")
        if tokenizer.pad_token_id is None:
            tokenizer.pad_token = tokenizer.eos_token
        self._attach(model.eval(), tokenizer, max_length, model_id, "", "in-memory")
        return self

    def _attach(self, model: Any, tokenizer: Any, max_length: int | None, model_id: str, sha: str,
                source: str) -> None:
        self.model, self.tokenizer = model, tokenizer
        # transformers >= 5.2x renamed forward(past_key_values=) to forward(cache=)
        self._cache_kw = "cache" if "cache" in inspect.signature(model.forward).parameters else "past_key_values"
        self.max_length = max_length or int(getattr(model.config, "max_position_embeddings", 2048) or 2048)
        self.has_chat_template = bool(getattr(tokenizer, "chat_template", None))
        self._fast = None
        if self.forward == "auto":
            from .llama_forward import LlamaForward, supports

            self._fast_reason = supports(model, self.max_length)
            if self._fast_reason is None:
                self._fast = LlamaForward(model, compile=self.compile, attention=self.attention,
                                          compute_dtype=getattr(self, "compute_dtype", None))
        else:
            self._fast_reason = "forward: transformers"
        n_params = sum(p.numel() for p in model.parameters())
        self.info = ModelInfo(
            model_id=model_id, backend=self.name, weights_sha256=sha, dtype=self.dtype, device=self.device,
            extra={"n_parameters": int(n_params), "source": source, "chat_template": self.has_chat_template,
                   "special_start": special_start(tokenizer),
                   "forward": "psychometrika" if self._fast else f"transformers ({self._fast_reason})",
                   "transformers": __import__("transformers").__version__, "torch": self._torch.__version__})
        if self._fast is not None:
            self.info.extra.update(attention=self.attention, compile=self.compile)
        if getattr(self, "dtype_rule", ""):
            self.info.extra["dtype_rule"] = self.dtype_rule
        if self._fast is not None and self._fast.compute_dtype is not None:
            self.info.extra["compute_dtype"] = str(self._fast.compute_dtype).replace("torch.", "")

    # ------------------------------------------------------------------ loading
    def _load(self, folder: str, gguf: str | None, trust_remote_code: bool) -> tuple[Any, Any]:
        from transformers import AutoModelForCausalLM, AutoTokenizer

        torch = self._torch
        key = (f"{folder}::{gguf}::{self.dequantize}", self.dtype, self.device)
        with _LOCK:
            if key in _CACHE:
                _USERS[key] = _USERS.get(key, 0) + 1
                self._cache_key = key
                return _CACHE[key]
            kwargs: dict[str, Any] = {"trust_remote_code": trust_remote_code}
            if gguf:
                kwargs["gguf_file"] = gguf
            model_kwargs: dict[str, Any] = {}
            if gguf and self.dequantize:
                try:  # transformers >= 5.2x keeps GGUF weights packed unless asked to unpack them
                    from transformers import GgufConfig
                    model_kwargs["quantization_config"] = GgufConfig(gguf_file=gguf, dequantize=True)
                except ImportError:
                    pass
            offline = os.environ.get("HF_HUB_OFFLINE") == "1" or Path(folder).exists()
            try:
                tok = AutoTokenizer.from_pretrained(folder, local_files_only=offline, **kwargs)
                mdl = AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, self.dtype),
                                                           local_files_only=offline, **kwargs, **model_kwargs)
            except Exception as exc:
                raise BackendError(f"could not load model {folder}{'/' + gguf if gguf else ''}: {exc}",
                                   hint="check the path, or that the hub id is in the local cache "
                                        "(no downloads happen offline)") from exc
            mdl.to(self.device).eval()
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            _CACHE[key] = (mdl, tok)
            _USERS[key] = 1
            self._cache_key = key
            return mdl, tok

    # ------------------------------------------------------------------ prompts
    def render(self, messages: Sequence[Message]) -> str:
        """The chat-templated prompt text with the assistant turn opened (see :func:`.chat.render_chat`)."""
        return render_chat(self.tokenizer, messages)

    def _encode(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False)["input_ids"])

    def _encode_many(self, texts: list[str]) -> dict[str, list[int]]:
        """Token ids of many texts in one call of the (Rust, batched) tokenizer."""
        unique = list(dict.fromkeys(texts))
        if not unique:
            return {}
        return dict(zip(unique, (list(x) for x in self.tokenizer(unique, add_special_tokens=False)["input_ids"])))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return len(self._encode(self.render(messages)))

    # ------------------------------------------------------------------ score
    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        check_unique_keys(requests)
        out: dict[str, ScoreResult] = {}
        encoded = []
        texts: dict[int, str] = {}
        for i, r in enumerate(requests):
            try:
                texts[i] = self.render(r.messages)
            except Exception as exc:  # a bad request fails alone
                out[r.key] = ScoreResult(r.key, [], 0, 0.0, error=f"{type(exc).__name__}: {exc}")
        ids = self._encode_many(list(texts.values()) + [c for r in requests for c in r.continuations])
        for i, text in texts.items():
            r = requests[i]
            try:
                prompt, conts = encode_score_request(ids.__getitem__, text, r.continuations, self.max_length)
                encoded.append((r, prompt, conts))
            except Exception as exc:  # a bad request fails alone
                out[r.key] = ScoreResult(r.key, [], 0, 0.0, error=f"{type(exc).__name__}: {exc}")
        # A row is (request, tokens, last-token options, n shared tokens ending the tokens, prompt length).
        # Continuations that differ only in their last token (" 1" ... " 5" after an answer prefix: a shared
        # space token, then the digit) are one row: one pass over prompt + shared tokens scores them all.
        # Other continuations ("Agree strongly", "Disagree") are a row each -- prompt + continuation, all but
        # its last token scored as shared tokens -- and the rows of one prompt share its prefix cache.
        rows, parts = [], {}
        for r, prompt, conts in encoded:
            common = common_head(conts)
            if all(len(c) == len(common) + 1 for c in conts) and len({c[-1] for c in conts}) == len(conts):
                rows.append((r, prompt + common, [c[-1:] for c in conts], len(common), len(prompt)))
                continue
            parts[r.key] = [_Part(f"{r.key}\x00{j}", r.steering) for j in range(len(conts))]
            rows.extend((part, prompt + c[:-1], [c[-1:]], len(c) - 1, len(prompt))
                        for part, c in zip(parts[r.key], conts))
        # one pass per steering (most studies: one, unsteered): a chunk -- and so every prefix cache, which lives
        # in one chunk -- never mixes two steerings, so a steered prefix is never reused unsteered
        by_steering: dict[Any, list] = {}
        for row in rows:
            st = active_steering(getattr(row[0], "steering", None))
            by_steering.setdefault(st.key() if st else None, [st, []])[1].append(row)
        for st, group in by_steering.values():
            with self._steered(st):
                # sorted by tokens: rows sharing a prefix are neighbours, so a chunk holds few, whole prefix groups
                for chunk in _even_chunks(sorted(group, key=lambda e: e[1]), self.batch_size * 4):
                    self._guard(chunk, out, self._score_single)
        for key, split in parts.items():
            done = [out.pop(part.key) for part in split]
            error = next((d.error for d in done if d.error), None)
            out[key] = ScoreResult(key, [] if error else [d.logprobs[0] for d in done], done[0].n_prompt_tokens,
                                   sum(d.latency_s for d in done), error=error)
        return [out[r.key] for r in requests]

    def _guard(self, chunk, out, fn) -> None:
        """Run ``fn`` on a chunk; on out-of-memory split the chunk in halves and retry (automatic batch
        sizing that backs off), on any other failure give every row the error (never stored as an answer)."""
        t0 = time.perf_counter()
        try:
            results = fn(chunk)
        except Exception as exc:
            if _is_oom(exc) and len(chunk) > 1:
                if self.device.startswith("cuda"):
                    self._torch.cuda.empty_cache()
                self.batch_size = max(1, self.batch_size // 2)
                half = len(chunk) // 2
                self._guard(chunk[:half], out, fn)
                self._guard(chunk[half:], out, fn)
                return
            for r, *_, n_prompt in chunk:
                out[r.key] = ScoreResult(r.key, [], n_prompt, 0.0, error=f"{type(exc).__name__}: {exc}")
            return
        dt = (time.perf_counter() - t0) / max(1, len(chunk))
        for (r, *_, n_prompt), lps in zip(chunk, results):
            out[r.key] = ScoreResult(r.key, lps, n_prompt, dt)

    def _batch(self, seqs: list[list[int]]):
        torch = self._torch
        width = max(len(s) for s in seqs)
        pad = self.tokenizer.pad_token_id
        ids = torch.full((len(seqs), width), pad, dtype=torch.long)
        mask = torch.zeros((len(seqs), width), dtype=torch.long)
        for i, s in enumerate(seqs):
            ids[i, :len(s)] = torch.tensor(s, dtype=torch.long)
            mask[i, :len(s)] = 1
        return ids.to(self.device), mask.to(self.device)

    @contextlib.contextmanager
    def _steered(self, steering: Steering | None, hooks: bool | None = None):
        """Steer the passes run inside the context: the lean forward gets the vectors (``steer=``), the
        ``transformers`` forward (the fallback, or generation: ``hooks=True``) forward hooks on its decoder
        blocks. ``None`` (or coefficient 0) changes nothing."""
        steering = active_steering(steering)
        if steering is None:
            yield
            return
        from .steering import steering_hooks, steering_vectors

        vectors = steering_vectors(self._torch, self.model, steering, self.info.weights_sha256, self.device)
        use_hooks = self._fast is None if hooks is None else hooks
        self._steer = None if use_hooks else vectors
        try:
            with steering_hooks(self.model, vectors if use_hooks else None):
                yield
        finally:
            self._steer = None

    def residual_activations(self, messages: Sequence[Sequence[Message]]):
        """The residual stream at the last prompt token (the assistant turn opened) of each chat: float32 numpy
        ``[n, n_layers + 1, hidden]``, row 0 the embeddings and row ``l`` the output of decoder block ``l`` (see
        :func:`.steering.residual_activations`; what trait directions are built from)."""
        from .steering import residual_activations

        seqs = [self._encode(self.render(m)) for m in messages]
        return residual_activations(self._torch, self.model, seqs, self.tokenizer.pad_token_id, self.device,
                                    self.batch_size)

    @contextlib.contextmanager
    def _no_grad(self):
        """``inference_mode``; on CUDA also keep PyTorch's attention off the cuDNN kernel, which builds an
        execution plan for every new (batch, query, key) shape -- and length-bucketed batches are all new
        shapes (measured on an H100, 8B shape: 331-441 items/s with it, 490 without)."""
        torch = self._torch
        with contextlib.ExitStack() as stack:
            stack.enter_context(torch.inference_mode())
            if self.device.startswith("cuda"):
                try:
                    from torch.nn.attention import SDPBackend, sdpa_kernel
                    stack.enter_context(sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION,
                                                     SDPBackend.MATH]))
                except ImportError:  # pragma: no cover - torch < 2.3
                    pass
            yield

    def _score_single(self, chunk) -> list[list[float]]:
        """Scores of rows whose continuations differ only in their last token.

        With ``prefix_sharing`` the rows are grouped by their common token prefix (persona, instructions,
        response scale); every group's prefix runs once (and the groups' common roots once, see
        :meth:`_prefix_cache`), and the suffixes of *all* groups then run in
        length-bucketed batches on top of their group's KV cache -- so a batch is full even when a group is
        small (one option order of one persona is only ~44 items). Rows without a long shared prefix run
        whole. Results equal unshared scoring up to float rounding.
        """
        rows = list(range(len(chunk)))
        results: dict[int, list[float]] = {}
        prefixes: list[list[int]] = []
        group_of: dict[int, int] = {}
        if self.prefix_sharing:
            order = sorted(rows, key=lambda i: chunk[i][1][:chunk[i][4]])
            for group, plen in _prefix_groups([chunk[i][1][:chunk[i][4]] for i in order], self.min_prefix):
                if plen >= self.min_prefix:
                    for g in group:
                        group_of[order[g]] = len(prefixes)
                    prefixes.append(chunk[order[group[0]]][1][:plen])
        lone = [i for i in rows if i not in group_of]
        if lone:
            results.update(zip(lone, self._score_suffixes([chunk[i] for i in lone], [0] * len(lone), None)))
        if group_of:
            shared = sorted(group_of)
            kv = self._prefix_cache(prefixes)
            results.update(zip(shared, self._score_suffixes([chunk[i] for i in shared],
                                                            [group_of[i] for i in shared], kv)))
        return [results[i] for i in rows]

    def _prefix_cache(self, prefixes: list[list[int]], past=None):
        """KV cache of every prefix, right-padded to the longest: ``(layers, lengths)`` where ``layers`` is a
        list of per-layer ``(keys, values)`` of shape ``[n_prefixes, heads, P, head_dim]``. Right padding keeps
        every real position exactly as in an unpadded run (causal attention never looks ahead), and the padded
        positions are masked when the suffixes attend to them.

        Prefixes are cached hierarchically: those sharing a long root (the system prompt and the start of the
        instructions, shared by every option order) run the root once and only their own ends on top of it,
        recursively. ``past`` is the cache of one sequence that every prefix continues (lengths include it).
        """
        torch = self._torch
        order = sorted(range(len(prefixes)), key=prefixes.__getitem__)
        pieces: list[tuple[list[int], Any]] = []
        flat: list[int] = []
        for group, rlen in _prefix_groups([prefixes[i] for i in order], self.min_prefix):
            members = [order[g] for g in group]
            if rlen >= self.min_prefix:
                root = self._run_prefixes([prefixes[members[0]][:rlen]], past)
                pieces.append((members, self._prefix_cache([prefixes[i][rlen:] for i in members], root)))
            else:
                flat.extend(members)
        if flat:
            pieces.append((flat, self._run_prefixes([prefixes[i] for i in flat], past)))
        if len(pieces) == 1 and pieces[0][0] == list(range(len(prefixes))):
            return pieces[0][1]
        width = max(layers[0][0].shape[2] for _, (layers, _) in pieces)
        where = torch.tensor([i for members, _ in pieces for i in members], device=self.device)
        back = torch.empty_like(where)
        back[where] = torch.arange(len(where), device=self.device)
        layers = [tuple(_cat_padded(torch, [p[1][0][li][kv] for p in pieces], width).index_select(0, back)
                        for kv in (0, 1)) for li in range(len(pieces[0][1][0]))]
        lengths = [0] * len(prefixes)
        for members, (_, lens) in pieces:
            for i, n in zip(members, lens):
                lengths[i] = n
        return layers, lengths

    def _run_prefixes(self, seqs: list[list[int]], past=None):
        """Run token sequences (right-padded batches) on top of ``past`` (one sequence's ``(layers, [length])``
        or None) and return their caches the way :meth:`_prefix_cache` does, past included."""
        torch = self._torch
        base = past[1][0] if past is not None else 0
        batches = []
        for sub in _chunks(seqs, self.batch_size):
            ids, mask = self._batch(sub)
            pos = torch.arange(base, base + ids.shape[1], device=self.device).expand(len(sub), -1)
            with self._no_grad():
                batches.append(self._prefix_batch(ids, mask, pos, past, base))
        width = base + max(len(s) for s in seqs)
        layers = [tuple(_cat_padded(torch, [batch[li][kv] for batch in batches], width) for kv in (0, 1))
                  for li in range(len(batches[0]))]
        return layers, [base + len(s) for s in seqs]

    def _prefix_batch(self, ids, mask, pos, past, base: int) -> list[tuple[Any, Any]]:
        """Per-layer ``(keys, values)`` ``[b, kv_heads, base + width, head_dim]`` of one right-padded batch run
        on top of the first ``base`` positions of ``past``."""
        torch = self._torch
        b = ids.shape[0]
        root = [(k[:1, :, :base], v[:1, :, :base]) for k, v in past[0]] if past is not None else None
        if self._fast is not None:
            fast_past = (root, torch.tensor([base], device=self.device), None) if root else None
            _, new = self._fast(ids, pos, mask.bool(), fast_past, keep=1, want_cache=True, steer=self._steer)
            if root is None:
                return new
            return [tuple(torch.cat([r.expand(b, -1, -1, -1), n], 2) for r, n in zip(rkv, nkv))
                    for rkv, nkv in zip(root, new)]
        kwargs: dict[str, Any] = {}
        if root is not None:
            from transformers import DynamicCache

            cache = DynamicCache(config=self.model.config)
            for li, (k, v) in enumerate(root):
                cache.update(k.expand(b, -1, -1, -1), v.expand(b, -1, -1, -1), li)
            mask = torch.cat([torch.ones((b, base), dtype=mask.dtype, device=mask.device), mask], 1)
            kwargs = {self._cache_kw: cache, "position_ids": pos}
        out = self.model(input_ids=ids, attention_mask=mask, use_cache=True, logits_to_keep=1, **kwargs)
        cache = getattr(out, "cache", None) or out.past_key_values
        return [(layer.keys, layer.values) for layer in cache.layers]

    def _score_suffixes(self, chunk, groups: list[int], kv) -> list[list[float]]:
        """Run the rows' suffixes (whole sequences when ``kv`` is None) in batches bucketed by length, each row
        on top of its group's cached prefix, and read every option's log-prob from the last positions only
        (``logits_to_keep``), gathered on the device in one step per batch. The values are read back to the
        host once, after the last batch: a read per batch would make the GPU wait, idle, while the host
        prepares the next batch."""
        torch = self._torch
        layers, plens = kv if kv is not None else (None, None)
        width_p = layers[0][0].shape[2] if layers else 0
        order = sorted(range(len(chunk)), key=lambda i: len(chunk[i][1]) - (plens[groups[i]] if plens else 0))
        pending = []
        for sub in _even_chunks(order, self.batch_size):
            b = len(sub)
            starts = [plens[groups[i]] if plens else 0 for i in sub]
            suffixes = [chunk[i][1][s:] for i, s in zip(sub, starts)]
            width = max(len(x) for x in suffixes)
            # left padding: every row ends at the last column, so only the last k positions need logits
            ids = torch.full((b, width), self.tokenizer.pad_token_id, dtype=torch.long)
            mask = torch.zeros((b, width_p + width), dtype=torch.long)
            pos = torch.zeros((b, width), dtype=torch.long)
            for j, (x, s) in enumerate(zip(suffixes, starts)):
                ids[j, width - len(x):] = torch.tensor(x, dtype=torch.long)
                mask[j, :s] = 1
                mask[j, width_p + width - len(x):] = 1
                pos[j, width - len(x):] = torch.arange(s, s + len(x))
            keep = 1 + max(chunk[i][3] for i in sub)
            sel = [groups[i] for i in sub]
            with self._no_grad():
                logits = self._suffix_logits(ids.to(self.device), mask.to(self.device), pos.to(self.device), keep,
                                             kv, sel)
                lse = torch.logsumexp(logits.float(), dim=-1)  # [b, keep]
                r_idx, p_idx, t_idx = [], [], []
                for j, i in enumerate(sub):
                    _, seq, conts, n_common, _ = chunk[i]
                    for k in range(n_common):  # shared continuation tokens that end the sequence
                        r_idx.append(j), p_idx.append(keep - 1 - n_common + k), t_idx.append(seq[len(seq) - n_common + k])
                    for c in conts:
                        r_idx.append(j), p_idx.append(keep - 1), t_idx.append(c[0])
                r_t, p_t = torch.tensor(r_idx, device=self.device), torch.tensor(p_idx, device=self.device)
                pending.append((sub, logits[r_t, p_t, torch.tensor(t_idx, device=self.device)].float()
                                - lse[r_t, p_t]))
        vals = torch.cat([v for _, v in pending]).tolist() if pending else []
        res: dict[int, list[float]] = {}
        at = 0
        for i in (i for sub, _ in pending for i in sub):
            _, _, conts, n_common, _ = chunk[i]
            shared = sum(vals[at:at + n_common])
            res[i] = [shared + v for v in vals[at + n_common:at + n_common + len(conts)]]
            at += n_common + len(conts)
        return [res[i] for i in range(len(chunk))]

    def _suffix_logits(self, ids, mask, pos, keep: int, kv, sel: list[int]):
        """Logits ``[b, keep, vocab]`` of a left-padded suffix batch, row ``j`` on top of prefix ``sel[j]`` of
        ``kv`` (or of nothing when ``kv`` is None); ``mask`` covers prefix width + suffix width."""
        torch = self._torch
        layers, plens = kv if kv is not None else (None, None)
        one = layers is not None and len(set(sel)) == 1  # one group: its cache is shared, never copied per row
        if self._fast is not None:
            past = None
            if one:
                past = ([(k[sel[0]:sel[0] + 1], v[sel[0]:sel[0] + 1]) for k, v in layers],
                        torch.tensor([plens[sel[0]]], device=self.device), None)
            elif layers is not None:
                past = (layers, torch.tensor(plens, device=self.device), torch.tensor(sel, device=self.device))
            return self._fast(ids, pos, mask[:, mask.shape[1] - ids.shape[1]:].bool(), past, keep=keep,
                              steer=self._steer)
        kwargs: dict[str, Any] = {}
        if layers is not None:
            from transformers import DynamicCache

            b = len(sel)
            if one:
                pick = lambda t: t[sel[0]:sel[0] + 1].expand(b, -1, -1, -1)  # noqa: E731
            else:
                index = torch.tensor(sel, device=self.device)
                pick = lambda t: t.index_select(0, index)  # noqa: E731
            cache = DynamicCache(config=self.model.config)
            for li, (k, v) in enumerate(layers):
                cache.update(pick(k), pick(v), li)
            kwargs = {"use_cache": True, self._cache_kw: cache}
        return self.model(input_ids=ids, attention_mask=mask, position_ids=pos, logits_to_keep=keep,
                          **kwargs).logits

    # ------------------------------------------------------------------ generate
    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        check_unique_keys(requests)
        torch = self._torch
        todo, out = encode_generate_requests(self._encode, self.render, requests, self.max_length)
        groups: dict[tuple, list[tuple[GenerateRequest, list[int]]]] = {}
        for r, prompt in todo:
            greedy = r.temperature <= 0
            st = active_steering(r.steering)
            gkey = (r.max_tokens, greedy, 0.0 if greedy else r.temperature, 1.0 if greedy else r.top_p,
                    0 if greedy else r.seed, st.key() if st else None)
            groups.setdefault(gkey, []).append((r, prompt))
        pad = self.tokenizer.pad_token_id
        eos = self.tokenizer.eos_token_id
        for (max_tokens, greedy, temperature, top_p, seed, _), items in groups.items():
            steering = active_steering(items[0][0].steering)
            for chunk in _chunks(sorted(items, key=lambda x: len(x[1])), self.batch_size):
                t0 = time.perf_counter()
                try:
                    width = max(len(p) for _, p in chunk)
                    ids = torch.full((len(chunk), width), pad, dtype=torch.long)
                    mask = torch.zeros((len(chunk), width), dtype=torch.long)
                    for i, (_, p) in enumerate(chunk):  # left padding for generation
                        ids[i, width - len(p):] = torch.tensor(p, dtype=torch.long)
                        mask[i, width - len(p):] = 1
                    kwargs: dict[str, Any] = {"max_new_tokens": max_tokens, "pad_token_id": pad,
                                              "eos_token_id": eos}
                    if greedy:
                        kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
                    else:
                        torch.manual_seed(int(seed))
                        kwargs.update(do_sample=True, temperature=temperature, top_p=top_p, top_k=0)
                    with self._no_grad(), self._steered(steering, hooks=True):
                        gen = self.model.generate(input_ids=ids.to(self.device), attention_mask=mask.to(self.device),
                                                  **kwargs)
                    new = gen[:, width:].tolist()
                except Exception as exc:
                    for r, p in chunk:
                        out[r.key] = GenerateResult(r.key, "", len(p), 0, 0.0, error=f"{type(exc).__name__}: {exc}")
                    continue
                dt = (time.perf_counter() - t0) / len(chunk)
                for (r, p), toks in zip(chunk, new):
                    toks = _strip_after_eos(toks, eos, pad)
                    text = self.tokenizer.decode(toks, skip_special_tokens=True)
                    out[r.key] = GenerateResult(r.key, text, len(p), len(toks), dt)
        return [out[r.key] for r in requests]

    def close(self) -> None:
        """Release the model: drop this backend's references and, when no other open backend of this process
        uses the same weights (and :func:`keep_weights` is off), the cached copy too, so the memory (CPU or GPU)
        is freed. Closing twice is harmless."""
        self.model = None
        self.tokenizer = None
        self._fast = None
        key, self._cache_key = getattr(self, "_cache_key", None), None
        if key is None:
            return
        with _LOCK:
            _USERS[key] = _USERS.get(key, 1) - 1
            if _USERS[key] > 0 or _keeping():
                return
            _USERS.pop(key, None)
            _CACHE.pop(key, None)
        _free_memory(self._torch)


def _free_memory(torch: Any) -> None:
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()


def cached_models() -> int:
    """How many loaded models this process holds (open backends' and kept ones)."""
    with _LOCK:
        return len(_CACHE)


def clear_cache() -> None:
    """Forget every model loaded in this process (open backends keep their own references)."""
    with _LOCK:
        _CACHE.clear()
        _USERS.clear()


class _Part:
    """One continuation of a score request whose continuations are scored as rows of their own."""

    __slots__ = ("key", "steering")

    def __init__(self, key: str, steering: Steering | None = None) -> None:
        self.key = key
        self.steering = steering


def _strip_after_eos(toks: list[int], eos: int | list[int] | None, pad: int | None) -> list[int]:
    stops = set(eos if isinstance(eos, list) else [eos]) - {None}
    for i, t in enumerate(toks):
        if t in stops:
            return toks[:i]
    return toks


def _is_oom(exc: BaseException) -> bool:
    return "OutOfMemoryError" in type(exc).__name__ or "out of memory" in str(exc).lower()


def _cat_padded(torch, parts: list, width: int):
    """Concatenate ``[n, heads, len, dim]`` tensors along the batch, right-padding ``len`` to ``width``."""
    parts = [p if p.shape[2] == width else torch.nn.functional.pad(p, (0, 0, 0, width - p.shape[2])) for p in parts]
    return parts[0] if len(parts) == 1 else torch.cat(parts, 0)


def _lcp(a: list[int], b: list[int]) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def _prefix_groups(seqs: list[list[int]], min_prefix: int) -> list[tuple[list[int], int]]:
    """Partition lexicographically sorted token sequences into runs that share a cached prefix.

    Returns (indices, prefix length) pairs, prefix length 0 for a row that runs whole. The prefix always
    leaves at least one token of every row as suffix. The partition maximises the tokens saved,
    ``sum((n_g - 1) * prefix_g)``, over the splits of the LCP tree: a run whose rows diverge at ``L`` tokens is
    either one group with prefix ``L`` or split where the common prefix is shortest, whichever saves more.
    (Option orders of one study share the system prompt and the start of the instructions but not the response
    scale: one group per order keeps the scale in the prefix, where one group for all would rerun it per item.)
    """
    n = len(seqs)
    if n == 0:
        return []
    adj = [min(_lcp(seqs[i], seqs[i + 1]), len(seqs[i]) - 1, len(seqs[i + 1]) - 1) for i in range(n - 1)]
    best: dict[tuple[int, int], tuple[int, list[tuple[int, int, int]]]] = {}
    stack: list[tuple[int, int, bool]] = [(0, n, False)]
    parts_of: dict[tuple[int, int], list[tuple[int, int]]] = {}
    while stack:  # post-order over the LCP tree, without recursion (deep trees are possible)
        a, b, done = stack.pop()
        if b - a == 1:
            best[(a, b)] = (0, [(a, b, 0)])
            continue
        low = min(adj[a:b - 1])
        if not done:
            cuts = [i + 1 for i in range(a, b - 1) if adj[i] == low]
            parts = list(zip([a] + cuts, cuts + [b]))
            parts_of[(a, b)] = parts
            stack.append((a, b, True))
            stack.extend((x, y, False) for x, y in parts)
            continue
        split_value = sum(best[p][0] for p in parts_of[(a, b)])
        own = (b - a - 1) * low
        if low >= min_prefix and own >= split_value:
            best[(a, b)] = (own, [(a, b, low)])
        else:
            best[(a, b)] = (split_value, [g for p in parts_of[(a, b)] for g in best[p][1]])
    return [(list(range(a, b)), plen) for a, b, plen in best[(0, n)][1]]


def _even_chunks(seq: list, n: int) -> list[list]:
    """``seq`` in the fewest chunks of at most ``n`` items, of nearly equal sizes (no small tail chunk)."""
    if not seq:
        return []
    k = -(-len(seq) // n)
    size = -(-len(seq) // k)
    return [seq[i:i + size] for i in range(0, len(seq), size)]


def _chunks(seq: list, n: int):
    for i in range(0, len(seq), n):
        yield seq[i:i + n]
