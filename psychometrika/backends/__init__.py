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
import math
import typing
from typing import Any

from ..errors import BackendError
from ..secrets import is_secret_name
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


#: settings that must be >= 1 (counts) whatever the backend
_AT_LEAST_ONE = frozenset({"batch_size", "max_concurrency", "threads", "top_logprobs", "tensor_parallel_size",
                           "min_prefix"})


def check_settings(name: str, settings: dict[str, Any]) -> None:
    """Raise :class:`BackendError` naming any setting that backend ``name`` does not take (a typo such as
    ``batchsize`` would otherwise be ignored, or fail deep inside the engine), a value of the wrong type
    (``delay_s: "0.0.1"``), a non-finite number, a negative duration (``*_s``) or a count below 1."""
    known = backend_settings(name)
    unknown = sorted(set(settings) - set(known))
    secret = [k for k in unknown if is_secret_name(k)]
    if secret:
        raise BackendError(f"settings.{secret[0]}: do not put an API key or token in a study file or in code: set "
                           "it in an environment variable and name that with api_key_env (default OPENAI_API_KEY)")
    if unknown:
        raise BackendError(f"unknown setting(s) {', '.join(unknown)} for backend {name!r}; "
                           f"it takes: {', '.join(sorted(known))}")
    hints = _setting_types(name)
    for key, value in settings.items():
        problem = _setting_problem(key, value, hints.get(key))
        if problem:
            raise BackendError(f"settings.{key}: {problem}")


def _setting_types(name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(backend_class(name).__init__)
    except Exception:  # noqa: BLE001 - unresolvable annotations: check names only
        return {}


def _setting_problem(key: str, value: Any, hint: Any) -> str | None:
    """Why ``value`` does not fit setting ``key`` (annotated ``hint``), or None."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"{value} is not a finite number"
    if hint is not None:
        from pydantic import TypeAdapter, ValidationError

        try:
            TypeAdapter(hint).validate_python(value, strict=True)
        except ValidationError as exc:
            want = getattr(hint, "__name__", None) or str(hint).replace("typing.", "")
            got = type(value).__name__
            if isinstance(value, str):
                return f"expected {want}, got the text {value!r} (YAML reads a number only when it is one)"
            return f"expected {want}, got {got} {value!r} ({exc.errors()[0].get('msg', 'invalid')})"
        except Exception:  # noqa: BLE001 - an annotation pydantic cannot check
            pass
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if key.endswith("_s") and value < 0:
            return f"a duration cannot be negative ({value})"
        if key in _AT_LEAST_ONE and value < 1:
            return f"must be at least 1, not {value}"
    return None


def make_backend(name: str, model: str | None = None, **settings: Any) -> Backend:
    """Create backend ``name`` for ``model`` with its ``settings`` (the study file's ``models[].settings``).

    A registry reference (``model: pypi:<distribution>``) is resolved first by
    :func:`psychometrika.models.registry.resolve` (assembling a chunked model into the cache once); the backend
    receives the local file, and its :class:`ModelInfo` names the reference, with the packages, versions, file
    sha256 and licence in ``extra["registry"]`` (recorded in the run manifest).
    """
    check_settings(name, settings)
    from ..models.registry import is_registry_ref, resolve

    if not is_registry_ref(model):
        return backend_class(name)(model=model, **settings)
    if name not in {"transformers", "vllm"}:
        raise BackendError(f"model {model!r}: a registry model is a local file, which backend {name!r} cannot load",
                           hint="use backend: transformers (or vllm)")
    resolved = resolve(str(model))
    backend = backend_class(name)(model=str(resolved.path), **settings)
    backend.info.model_id = str(model)
    backend.info.weights_sha256 = resolved.sha256
    backend.info.extra["registry"] = resolved.record()
    return backend


__all__ = ["BACKENDS", "Backend", "GenerateRequest", "GenerateResult", "Message", "ModelInfo", "ScoreRequest",
           "ScoreResult", "backend_class", "backend_settings", "check_settings", "make_backend"]
