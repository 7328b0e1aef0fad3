"""A simulated respondent for fast pipeline tests and demos (``backend: dummy``).

Answers are a deterministic function of the prompt (a hash seeds the random numbers), so a re-run gives
the same table. Optional planted effects make it useful for testing statistics end to end:

* ``position_bias``: extra log-odds for the first *displayed* option (a primacy bias of known size);
* ``delay_s``: sleep per request (to test progress bars and interruption);
* ``fail_every``: every n-th request fails (to test that failures are never stored);
* ``junk_text`` / ``junk_every``: in generate mode, about one answer in ``junk_every`` (chosen by the prompt's
  hash, so re-runs agree) is ``junk_text`` instead of a number (to test unparseable answers and escaping).

It never stands in for a real model in tests that claim to test a real backend.
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Sequence

import numpy as np

from .base import GenerateRequest, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult


class DummyBackend:
    """Deterministic simulated backend (see module docstring)."""

    name = "dummy"

    def __init__(self, model: str | None = None, *, delay_s: float = 0.0, position_bias: float = 0.0,
                 fail_every: int = 0, seed: int = 0, scale: float = 1.0, junk_text: str = "",
                 junk_every: int = 0) -> None:
        self.junk_text = str(junk_text)
        self.junk_every = int(junk_every)
        self.delay_s = float(delay_s)
        self.position_bias = float(position_bias)
        self.fail_every = int(fail_every)
        self.seed = int(seed)
        self.scale = float(scale)
        self.calls = 0
        ident = json.dumps({"model": model, "seed": seed, "bias": position_bias, "scale": scale}, sort_keys=True)
        self.info = ModelInfo(model_id=model or "dummy", backend="dummy",
                              weights_sha256=hashlib.sha256(ident.encode()).hexdigest(), dtype="", device="cpu",
                              extra={"simulated": True, "position_bias": self.position_bias})

    def _rng(self, messages: Sequence[Message], extra: str = "") -> np.random.Generator:
        h = hashlib.sha256((json.dumps(list(messages), sort_keys=True) + extra + str(self.seed)).encode())
        return np.random.default_rng(int(h.hexdigest()[:16], 16))

    def _fail(self) -> str | None:
        self.calls += 1
        if self.fail_every and self.calls % self.fail_every == 0:
            return "simulated failure"
        return None

    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        out = []
        for r in requests:
            if self.delay_s:
                time.sleep(self.delay_s)
            err = self._fail()
            logits = self._rng(r.messages).normal(scale=self.scale, size=len(r.continuations))
            logits[0] += self.position_bias
            lp = logits - np.log(np.exp(logits).sum())
            out.append(ScoreResult(r.key, [float(x) for x in lp], self.count_tokens(r.messages), self.delay_s,
                                   error=err))
        return out

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        out = []
        for r in requests:
            if self.delay_s:
                time.sleep(self.delay_s)
            err = self._fail()
            rng = self._rng(r.messages, f"{r.seed}:{r.temperature}")
            text = f"{int(rng.integers(1, 6))}"
            if self.junk_every and int(rng.integers(self.junk_every)) == 0:
                text = self.junk_text
            out.append(GenerateResult(r.key, text, self.count_tokens(r.messages), 1, self.delay_s, error=err))
        return out

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def close(self) -> None:
        pass
