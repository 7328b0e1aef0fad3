"""Inference backends: one small protocol (:class:`~psychometrika.backends.base.Backend`), several engines.

========== ====================================================== =========================
name       what                                                   module
========== ====================================================== =========================
transformers embedded SmolLM2 (GGUF), any local folder or hub id  ``backends.hf``
vllm       vLLM offline engine, prefix caching, prompt logprobs   ``backends.vllm_backend``
openai     any OpenAI-compatible HTTP server                      ``backends.openai_backend``
dummy      simulated answers for fast pipeline tests              ``backends.dummy``
simulated  a known population (traits, graded response model)     ``backends.simulated``
========== ====================================================== =========================

Backends know nothing of instruments: they see chat messages and continuation strings only.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

from ..errors import BackendError
from .base import Backend, GenerateRequest, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult

#: backend name -> "module:Class"
BACKENDS: dict[str, str] = {
    "transformers": "psychometrika.backends.hf:TransformersBackend",
    "vllm": "psychometrika.backends.vllm_backend:VLLMBackend",
    "openai": "psychometrika.backends.openai_backend:OpenAIBackend",
    "dummy": "psychometrika.backends.dummy:DummyBackend",
    "simulated": "psychometrika.backends.simulated:SimulatedBackend",
}


def backend_class(name: str) -> type:
    """The class implementing backend ``name`` (imported lazily: vLLM and torch are optional)."""
    if name not in BACKENDS:
        raise BackendError(f"unknown backend {name!r}; choose one of {sorted(BACKENDS)}")
    module, cls = BACKENDS[name].split(":")
    try:
        mod = importlib.import_module(module)
    except ImportError as exc:
        if (exc.name or "").startswith("psychometrika") or not isinstance(exc, ModuleNotFoundError):
            raise  # our own code is broken: show the real error
        extra = {"transformers": "llm", "vllm": "vllm"}.get(name, name)
        raise BackendError(f"backend {name!r} needs packages that are not installed ({exc}); "
                           f"install them with: pip install 'psychometrika[{extra}]'") from exc
    return getattr(mod, cls)


def backend_settings(name: str) -> list[str]:
    """The settings backend ``name`` takes (its constructor's keyword arguments besides ``model``)."""
    params = inspect.signature(backend_class(name).__init__).parameters.values()
    return [p.name for p in params if p.kind is p.KEYWORD_ONLY]


def check_settings(name: str, settings: dict[str, Any]) -> None:
    """Raise :class:`BackendError` naming any setting that backend ``name`` does not take (a typo such as
    ``batchsize`` would otherwise be ignored, or fail deep inside the engine)."""
    known = backend_settings(name)
    unknown = sorted(set(settings) - set(known))
    if "api_key" in unknown:
        raise BackendError("do not put an API key in a study file or in code: set it in an environment variable "
                           "and name that with api_key_env (default OPENAI_API_KEY)")
    if unknown:
        raise BackendError(f"unknown setting(s) {', '.join(unknown)} for backend {name!r}; "
                           f"it takes: {', '.join(sorted(known))}")


def make_backend(name: str, model: str | None = None, **settings: Any) -> Backend:
    """Create backend ``name`` for ``model`` with its ``settings`` (the study file's ``models[].settings``)."""
    check_settings(name, settings)
    return backend_class(name)(model=model, **settings)


__all__ = ["BACKENDS", "Backend", "GenerateRequest", "GenerateResult", "Message", "ModelInfo", "ScoreRequest",
           "ScoreResult", "backend_class", "backend_settings", "check_settings", "make_backend"]
