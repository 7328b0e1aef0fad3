"""Option orders: permutations of an item's answer options.

A permutation ``perm`` is a tuple of original option indices in display order: display position ``j``
shows original option ``perm[j]``. Mapping a chosen display position back to the original option is
``perm[j]``; the inverse ``inv[perm[j]] = j`` gives the display position of an original option.
"""

from __future__ import annotations

import itertools
import math
import random
from typing import Iterable, Sequence

from ..errors import StudyError

Permutation = tuple[int, ...]


def inverse(perm: Sequence[int]) -> Permutation:
    """Inverse permutation: original option index → display position."""
    inv = [0] * len(perm)
    for display, original in enumerate(perm):
        inv[original] = display
    return tuple(inv)


def to_original(perm: Sequence[int], display_position: int) -> int:
    """Original option index shown at ``display_position``."""
    return perm[display_position]


def display_to_original(perm: Sequence[int], values_in_display_order: Sequence[float]) -> list[float]:
    """Re-index a per-display-position vector (e.g. probabilities) into original option order."""
    out = [0.0] * len(perm)
    for display, original in enumerate(perm):
        out[original] = values_in_display_order[display]
    return out


def is_permutation(perm: Sequence[int], k: int) -> bool:
    return len(perm) == k and sorted(perm) == list(range(k))


def orders_for(spec: str | dict, k: int) -> list[tuple[str, Permutation]]:
    """Expand one order specification into named permutations of ``k`` options.

    Specifications: ``original``; ``reversed``; ``cyclic`` (all k cyclic shifts, a Latin square: every
    option appears once in every position); ``latin`` (same as cyclic: the standard cyclic Latin square);
    ``shift:N``; ``all`` (all k! orders, refused above 8 options); ``{random: n, seed: s}`` (n distinct
    random permutations, reproducible from the seed, the original order excluded unless drawn).
    """
    identity = tuple(range(k))
    if hasattr(spec, "model_dump"):  # the study model's RandomOrders
        spec = spec.model_dump()
    if isinstance(spec, dict):
        if set(spec) - {"random", "seed"} or "random" not in spec:
            raise StudyError(f"unknown option-order specification {spec!r}",
                             hint="use {random: N, seed: S}")
        n = int(spec["random"])
        if n < 1:
            raise StudyError("random option orders: N must be at least 1")
        n = min(n, math.factorial(k))
        rng = random.Random(int(spec.get("seed", 0)) * 1_000_003 + k)
        seen: dict[Permutation, None] = {}
        while len(seen) < n:
            p = list(identity)
            rng.shuffle(p)
            seen.setdefault(tuple(p), None)
        return [(f"random{i}", p) for i, p in enumerate(seen)]
    s = str(spec)
    if s == "original":
        return [("original", identity)]
    if s == "reversed":
        return [("reversed", identity[::-1])]
    if s in {"cyclic", "latin"}:
        return [("original" if i == 0 else f"shift{i}", identity[i:] + identity[:i]) for i in range(k)]
    if s.startswith("shift:"):
        try:
            i = int(s.split(":", 1)[1]) % k
        except ValueError:
            raise StudyError(f"bad option order {s!r}", hint="shift:N with N an integer") from None
        return [("original" if i == 0 else f"shift{i}", identity[i:] + identity[:i])]
    if s == "all":
        if k > 8:
            raise StudyError(f"'all' option orders of {k} options is {math.factorial(k)} orders; use random: N")
        return [("original" if p == identity else "perm" + "".join(map(str, p)), p)
                for p in itertools.permutations(identity)]
    raise StudyError(f"unknown option order {s!r}",
                     hint="use original, reversed, cyclic, latin, shift:N, all, or {random: N, seed: S}")


def expand_orders(specs: Iterable[str | dict], k: int) -> list[tuple[str, Permutation]]:
    """Expand several specifications; duplicates (same permutation) are kept once, first name wins."""
    out: dict[Permutation, str] = {}
    for spec in specs:
        for name, perm in orders_for(spec, k):
            out.setdefault(perm, name)
    return [(name, perm) for perm, name in out.items()]
