"""A deterministic fake backend for fast pipeline tests (never used where a real backend is under test)."""

from __future__ import annotations

import hashlib

import numpy as np

from psychometrika.backends.base import GenerateResult, ModelInfo, ScoreResult


class FakeBackend:
    """Log-probs derived from a hash of the prompt; optional failures for chosen prompts."""

    def __init__(self, fail_every: int = 0):
        self.info = ModelInfo("fake", "dummy", "f" * 64)
        self.fail_every = fail_every
        self.calls = 0
        self.closed = False

    def _rng(self, messages) -> np.random.Generator:
        return np.random.default_rng(int(hashlib.sha256(repr(messages).encode()).hexdigest()[:8], 16))

    def score(self, reqs):
        out = []
        for r in reqs:
            self.calls += 1
            err = "boom" if self.fail_every and self.calls % self.fail_every == 0 else None
            out.append(ScoreResult(r.key, list(self._rng(r.messages).normal(size=len(r.continuations))), 40, 0.0,
                                   error=err))
        return out

    def generate(self, reqs):
        return [GenerateResult(r.key, str(int(self._rng(r.messages).integers(1, 6))), 40, 1, 0.0) for r in reqs]

    def count_tokens(self, messages):
        return 40

    def close(self):
        self.closed = True
