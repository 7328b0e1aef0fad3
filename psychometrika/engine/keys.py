"""Request identity: the content hash that names a backend request, and the generation seed of a repetition."""

from __future__ import annotations

import hashlib
import json
from typing import Any

#: Generation seeds lie in ``[0, SEED_SPACE)`` (63 bits: accepted by torch, vLLM and the OpenAI API).
SEED_SPACE = 2 ** 63


def request_key(info_hash: str, backend: str, mode: str, decoding: dict[str, Any], seed: int,
                messages: list[dict[str, str]], continuations: list[str], instrument_sha256: str = "") -> str:
    """Content hash of a request: weights hash, backend, decoding, seed, exact prompt and continuation set, and
    (when given) the content hash of the instrument file the item came from (an edited keying changes it)."""
    payload = {"w": info_hash, "b": backend, "m": mode, "d": decoding if mode == "generate" else {},
               "s": seed, "p": messages, "c": continuations}
    if instrument_sha256:
        payload["i"] = instrument_sha256
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def generation_seed(seed: int, repetition: int) -> int:
    """The sampling seed of repetition ``repetition`` of a study run with seed ``seed``.

    ``base(seed) + repetition`` modulo :data:`SEED_SPACE`, where ``base`` is the first 63 bits of
    ``sha256("psychometrika-generation-seed:{seed}")``. Within one study seed, distinct repetitions always get
    distinct generation seeds (for fewer than 2**63 repetitions); two study seeds' sequences start at
    unrelated points of a 2**63 space, so they overlap only with negligible probability (the former
    ``seed * 1000 + repetition`` gave seed 0, repetition 1000 the seed of seed 1, repetition 0).

    The seed deliberately does not depend on the prompt: backends batch generation requests that share a
    seed (the transformers backend samples one batch per seed), so every prompt of one repetition shares it.
    """
    digest = hashlib.sha256(f"psychometrika-generation-seed:{int(seed)}".encode()).digest()
    base = int.from_bytes(digest[:8], "big") % SEED_SPACE
    return (base + int(repetition)) % SEED_SPACE


__all__ = ["SEED_SPACE", "generation_seed", "request_key"]
