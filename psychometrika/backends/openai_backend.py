"""The ``openai`` backend: any OpenAI-compatible HTTP server (vLLM's server, llama.cpp's server, hosted APIs,
or ``psychometrika serve``).

* ``generate`` posts ``/chat/completions`` and returns the text and token usage.
* ``score`` asks for the answer's first tokens with ``logprobs`` / ``top_logprobs`` and reads each option's
  log-probability off the server's top-k list at the position where the options diverge (walking the greedy
  tokens the options share, such as the space in ``" 1"`` .. ``" 5"``). Options outside the top-k get the
  k-th log-probability, an upper bound (raise ``top_logprobs`` when that happens often); a request where no
  option is in the top-k fails. A server that returns no logprobs makes ``score`` fall back to greedy
  generation: the option the text starts with gets probability 1 (``info.extra["score_method"]`` says which
  method ran).
* A final assistant message (an answer prefix such as ``"Answer:"``) is sent with vLLM's
  ``continue_final_message`` / ``add_generation_prompt`` extensions (``prefill: continue``, the default), or
  dropped (``prefill: drop``) for servers that do not continue a message.

Requests run concurrently (``max_concurrency`` threads) and are retried with exponential back-off and jitter on
connection errors, timeouts, truncated or malformed replies, HTTP 408/409/429 and 5xx, honouring
``Retry-After``. Other HTTP errors fail that
request only. The API key is read from the environment variable named by ``api_key_env`` and is never stored
(not in the run manifest, not in errors).
"""

from __future__ import annotations

import http.client
import json
import math
import os
import random
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Sequence

import psychometrika.secrets as secrets
from ..errors import BackendError
from ..secrets import env_name_problem
from .base import GenerateRequest, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult
from .chat import has_prefill

RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class HTTPStatusError(Exception):
    def __init__(self, status: int, body: str, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status, self.retry_after = status, retry_after


class OpenAIBackend:
    """Client of an OpenAI-compatible ``/v1`` API.

    Args:
        model: the served model name (default: the first of ``GET /models``).
        base_url: the API root, e.g. ``http://127.0.0.1:8000/v1``.
        api_key_env: environment variable holding the API key (``OPENAI_API_KEY``); no key is sent if unset.
        max_concurrency: requests in flight at once.
        max_retries: retries per request after the first try.
        backoff_s, max_backoff_s: first and largest back-off delay (doubled per retry, with jitter).
        timeout_s: per-request timeout.
        top_logprobs: how many alternatives to ask for per position in ``score`` mode (OpenAI allows 20).
        prefill: ``continue`` or ``drop`` (see the module text).
        weights_sha256: the served weights' hash, when the user knows it (recorded in the manifest).
    """

    name = "openai"

    def __init__(self, model: str | None = None, *, base_url: str = "http://127.0.0.1:8000/v1",
                 api_key_env: str = "OPENAI_API_KEY", max_concurrency: int = 8, max_retries: int = 5,
                 backoff_s: float = 0.5, max_backoff_s: float = 30.0, timeout_s: float = 120.0,
                 top_logprobs: int = 20, prefill: str = "continue", weights_sha256: str = "") -> None:
        if prefill not in {"continue", "drop"}:
            raise BackendError(f"prefill must be 'continue' or 'drop', not {prefill!r}")
        if max_concurrency < 1 or max_retries < 0 or top_logprobs < 1:
            raise BackendError("max_concurrency and top_logprobs must be >= 1 and max_retries >= 0")
        problem = env_name_problem(api_key_env) if api_key_env else None
        if problem:
            raise BackendError(problem)
        self.base_url = base_url.rstrip("/")
        self.api_key_env = api_key_env
        secrets.register(os.environ.get(api_key_env, "") if api_key_env else "")  # masked in every message
        self.max_concurrency, self.max_retries = int(max_concurrency), int(max_retries)
        self.backoff_s, self.max_backoff_s, self.timeout_s = float(backoff_s), float(max_backoff_s), float(timeout_s)
        self.top_logprobs, self.prefill = int(top_logprobs), prefill
        self.retries = 0  # retries made so far (all requests)
        self._lock = threading.Lock()
        self.model = model or self._first_model()
        self.info = ModelInfo(model_id=self.model, backend=self.name, weights_sha256=weights_sha256,
                              extra={"base_url": self.base_url, "score_method": "logprobs"})

    # ------------------------------------------------------------------ HTTP
    def _headers(self) -> dict[str, str]:
        h = {"Content-Type": "application/json"}
        key = os.environ.get(self.api_key_env, "") if self.api_key_env else ""
        if key:
            h["Authorization"] = f"Bearer {key}"
        return h

    def _request(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """One HTTP call with retries. Raises the last error when every try failed."""
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(self.max_retries + 1):
            req = urllib.request.Request(self.base_url + path, data=data, method=method, headers=self._headers())
            try:
                with urllib.request.urlopen(req, timeout=self.timeout_s) as resp:
                    return json.loads(resp.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                text = exc.read().decode("utf-8", "replace") if exc.fp else ""
                err: Exception = HTTPStatusError(exc.code, text, _retry_after(exc.headers.get("Retry-After")))
                if exc.code not in RETRY_STATUS:
                    raise err from None
            except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as exc:
                err = exc  # timeouts, refused/dropped connections, truncated bodies, malformed JSON
            if attempt == self.max_retries:
                raise err
            with self._lock:
                self.retries += 1
            delay = min(self.max_backoff_s, self.backoff_s * 2 ** attempt) * (0.5 + random.random() / 2)
            if isinstance(err, HTTPStatusError) and err.retry_after is not None:
                delay = min(self.max_backoff_s, max(delay, err.retry_after))
            time.sleep(delay)
        raise AssertionError("unreachable")

    def _first_model(self) -> str:
        try:
            data = self._request("GET", "/models")
            return str(data["data"][0]["id"])
        except Exception as exc:
            raise BackendError(f"could not list the models of {self.base_url}: {_safe(exc)}",
                               hint="is the server running? give `model:` explicitly") from exc

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        if len(items) <= 1:
            return [fn(x) for x in items]
        with ThreadPoolExecutor(max_workers=min(self.max_concurrency, len(items))) as pool:
            return list(pool.map(fn, items))

    def _chat_body(self, messages: Sequence[Message], **extra: Any) -> dict[str, Any]:
        msgs = [dict(m) for m in messages]
        body: dict[str, Any] = {"model": self.model, **extra}
        if has_prefill(msgs):
            if self.prefill == "drop":
                msgs = msgs[:-1]
            else:
                body.update(continue_final_message=True, add_generation_prompt=False)
        body["messages"] = msgs
        return body

    # ------------------------------------------------------------------ generate
    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        return self._map(self._generate_one, requests)

    def _generate_one(self, r: GenerateRequest) -> GenerateResult:
        t0 = time.perf_counter()
        extra: dict[str, Any] = {"max_tokens": r.max_tokens, "temperature": r.temperature}
        if r.temperature > 0:
            extra.update(top_p=r.top_p, seed=r.seed)
        try:
            data = self._request("POST", "/chat/completions", self._chat_body(r.messages, **extra))
            text = data["choices"][0]["message"].get("content") or ""
            usage = data.get("usage") or {}
            return GenerateResult(r.key, text, int(usage.get("prompt_tokens", 0)),
                                  int(usage.get("completion_tokens", 0)), time.perf_counter() - t0)
        except Exception as exc:
            return GenerateResult(r.key, "", 0, 0, time.perf_counter() - t0, error=_safe(exc))

    # ------------------------------------------------------------------ score
    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        return self._map(self._score_one, requests)

    def _score_one(self, r: ScoreRequest) -> ScoreResult:
        t0 = time.perf_counter()
        conts = list(r.continuations)
        if self.prefill == "drop" and has_prefill(r.messages):
            conts = [c.lstrip() for c in conts]
        n = max(len(c) for c in conts) if conts else 1
        body = self._chat_body(r.messages, max_tokens=min(8, n + 1), temperature=0.0, logprobs=True,
                               top_logprobs=self.top_logprobs)
        try:
            data = self._request("POST", "/chat/completions", body)
            choice = data["choices"][0]
            content = ((choice.get("logprobs") or {}).get("content")) or []
            n_prompt = int((data.get("usage") or {}).get("prompt_tokens", 0))
            if content:
                lps = option_logprobs(conts, content)
            else:  # the server gives no logprobs: greedy text, one-hot on the option it starts with
                self.info.extra["score_method"] = "generate"
                lps = one_hot(conts, choice["message"].get("content") or "")
            return ScoreResult(r.key, lps, n_prompt, time.perf_counter() - t0)
        except Exception as exc:
            return ScoreResult(r.key, [], 0, time.perf_counter() - t0, error=_safe(exc))

    def count_tokens(self, messages: Sequence[Message]) -> int:
        """A rough count (characters / 4 plus 4 per message) for planning: the server holds the tokenizer."""
        return sum(len(m["content"]) // 4 + 4 for m in messages)

    def close(self) -> None:
        pass


def option_logprobs(conts: list[str], content: list[dict[str, Any]]) -> list[float]:
    """Each continuation's log-probability from the server's per-position logprobs of a greedy answer.

    Walks the greedy tokens while they are a prefix shared by the continuations; at each position a
    continuation that the greedy prefix plus one of the top-k tokens completes gets the summed log-probability.
    Continuations never found get the smallest top-k log-probability seen at the position where they
    diverged (an upper bound). Raises ValueError when no continuation is found at all.
    """
    found: dict[int, float] = {}
    bound: dict[int, float] = {}
    prefix, acc = "", 0.0
    for pos in content:
        tops = list(pos.get("top_logprobs") or [])
        if all(t["token"] != pos["token"] for t in tops):
            tops.append({"token": pos["token"], "logprob": pos["logprob"]})
        for t in tops:
            text = prefix + t["token"]
            for i, c in enumerate(conts):
                if i not in found and text == c:
                    found[i] = acc + float(t["logprob"])
        floor = acc + min(float(t["logprob"]) for t in tops)
        for i, c in enumerate(conts):
            if i not in found and i not in bound and c.startswith(prefix) and not c.startswith(prefix + pos["token"]):
                bound[i] = floor
        prefix += pos["token"]
        acc += float(pos["logprob"])
        if not any(i not in found and c.startswith(prefix) and c != prefix for i, c in enumerate(conts)):
            break
    if not found:
        raise ValueError(f"none of the options {conts} is among the server's top tokens")
    worst = min(bound.values(), default=min(found.values()))
    return [found.get(i, bound.get(i, worst)) for i in range(len(conts))]


def one_hot(conts: list[str], text: str) -> list[float]:
    """0 for the (longest) continuation the text starts with, -inf for the others."""
    t = text.strip()
    hits = [i for i, c in enumerate(conts) if c.strip() and t.startswith(c.strip())]
    if not hits:
        raise ValueError(f"the answer {text[:60]!r} starts with none of the options {conts}")
    best = max(hits, key=lambda i: len(conts[i].strip()))
    return [0.0 if i == best else -math.inf for i in range(len(conts))]


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


def _safe(exc: BaseException) -> str:
    """An error message without any API key in it (see :func:`psychometrika.secrets.redact_text`: the key of
    ``api_key_env`` whatever the variable's name, bearer tokens, secret-like variables)."""
    return secrets.redact_text(f"{type(exc).__name__}: {exc}")
