"""The small protocol every inference backend implements.

A backend knows nothing of instruments, scales or personas: it receives chat messages (already
rendered from the study's prompt template) and either

* ``score``: returns the summed log-probability of each candidate continuation (the option labels)
  after the chat-templated prompt with the assistant turn opened, or
* ``generate``: returns generated text.

When the last message has the role ``assistant`` it is a *prefill*: the answer continues that message
(e.g. ``"Answer:"``, with continuations ``" 1"``, ``" 2"``, ...), in both modes.

Requests carry an opaque ``key`` that the engine uses to store results; backends return results
in the same order as the requests.

A request may carry a :class:`Steering`: add ``coef`` times a stored trait direction to the residual stream at
the given layers (activation steering, issue 23). Only backends with ``supports_steering = True`` (the
``transformers`` backend) honour it; the others refuse such a request with a :class:`~psychometrika.errors.BackendError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence, runtime_checkable

Message = dict[str, str]  # {"role": "system"|"user"|"assistant", "content": str}


@dataclass(frozen=True)
class Steering:
    """Add ``coef`` x the direction of a steering artefact to the residual stream at ``layers``.

    ``vectors`` is the path of the artefact's ``.safetensors`` file (:mod:`psychometrika.models.steering`),
    ``sha256`` the content hash its metadata records (a backend refuses a file that does not match, or one
    built for other weights). Layer ``l`` (1-based) is the output of decoder block ``l``. A coefficient of 0
    is no steering at all (:func:`active_steering` drops it), so it equals the unsteered model exactly.
    Hashable: backends group requests by it, and never share a prefix cache across two steerings.
    """

    vectors: str
    sha256: str
    layers: tuple[int, ...]
    coef: float

    def key(self) -> tuple[str, tuple[int, ...], float]:
        """What identifies the steering's effect (the file path is only where it lies)."""
        return (self.sha256, tuple(self.layers), float(self.coef))


def check_unique_keys(requests: Sequence[Any]) -> None:
    """Refuse a call in which two *different* requests share a ``key``: a backend that collects results by key
    would silently give both one request's answer. Identical requests under one key (a score-mode study with
    repetitions) are fine: they have one answer."""
    seen: dict[str, Any] = {}
    clash = [r.key for r in requests if seen.setdefault(r.key, r) != r]
    if clash:
        from ..errors import BackendError

        raise BackendError(f"{len(clash)} request(s) reuse the key of a different request in the same call (first: "
                           f"{clash[0]!r}); results are returned by key, so different requests need different keys",
                           hint="give each request a distinct key (the engine uses a hash of the request)")


def active_steering(steering: "Steering | None") -> "Steering | None":
    """``steering``, or None when it does nothing (absent, coefficient 0, no layers)."""
    if steering is None or float(steering.coef) == 0.0 or not steering.layers:
        return None
    return steering


@dataclass(frozen=True)
class ScoreRequest:
    """Score the continuations of one prompt.

    ``continuations`` are the exact strings the assistant turn could start with (e.g. ``["1", "2", "3"]``
    or ``["A", "B"]`` or full option texts). Multi-token continuations are summed over their tokens.
    """

    key: str
    messages: tuple[Message, ...]
    continuations: tuple[str, ...]
    steering: Steering | None = None


@dataclass
class ScoreResult:
    key: str
    logprobs: list[float]  # summed log-probability of each continuation, same order as the request
    n_prompt_tokens: int
    latency_s: float
    error: str | None = None  # set when the request failed; never stored as an answer


@dataclass(frozen=True)
class GenerateRequest:
    key: str
    messages: tuple[Message, ...]
    max_tokens: int = 32
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    steering: Steering | None = None


@dataclass
class GenerateResult:
    key: str
    text: str
    n_prompt_tokens: int
    n_completion_tokens: int
    latency_s: float
    error: str | None = None


@dataclass
class ModelInfo:
    model_id: str            # what the user named (path, hub id, "smollm2-135m-instruct")
    backend: str             # "transformers" | "vllm" | "openai" | "dummy"
    weights_sha256: str      # hash of the weight file(s); "" if unknown (remote API)
    dtype: str = ""
    device: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Backend(Protocol):
    """What the engine needs from an inference backend (``supports_steering``, when present and true, says
    that it honours :class:`Steering` on requests)."""

    info: ModelInfo

    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        ...

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        ...

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """Number of prompt tokens of the chat-templated messages (for planning)."""
        ...

    def close(self) -> None:
        ...
