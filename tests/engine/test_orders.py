"""Permutation bookkeeping: any order maps a chosen display position back to the right original option."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from psychometrika.backends.base import ScoreResult
from psychometrika.design.orders import display_to_original, expand_orders, inverse, is_permutation, orders_for
from psychometrika.answers import score_row
from psychometrika.errors import StudyError


@given(st.integers(2, 7).flatmap(lambda k: st.permutations(list(range(k)))))
def test_inverse_roundtrip(perm):
    inv = inverse(perm)
    assert all(inv[perm[j]] == j for j in range(len(perm)))


@settings(max_examples=300, deadline=None)  # pure arithmetic; a loaded CI machine must not fail it
@given(st.integers(2, 7).flatmap(lambda k: st.tuples(st.permutations(list(range(k))),
                                                      st.lists(st.floats(-20, 0), min_size=k, max_size=k))))
def test_score_row_maps_display_back_to_original(case):
    perm, logprobs = case
    k = len(perm)
    values = [10.0 * (i + 1) for i in range(k)]
    row = {"permutation": list(perm), "option_values": values}
    out = score_row(row, ScoreResult("k", logprobs, 12, 0.0))
    # the option shown at display position j is original option perm[j]: its probability must be p_display[j]
    p_display = np.exp(np.array(logprobs) - max(logprobs))
    p_display /= p_display.sum()
    for j in range(k):
        assert out["probs"][perm[j]] == pytest.approx(p_display[j])
    best = int(np.argmax(p_display))
    assert out["chosen_position"] == best
    assert out["chosen_option"] == perm[best]
    assert out["chosen_value"] == values[perm[best]]
    assert out["expected_value"] == pytest.approx(float(np.dot(out["probs"], values)))
    assert sum(out["probs"]) == pytest.approx(1.0)


@given(st.integers(2, 6).flatmap(lambda k: st.tuples(st.permutations(list(range(k))),
                                                      st.lists(st.floats(0, 1), min_size=k, max_size=k))))
def test_display_to_original_is_a_reindexing(case):
    perm, vec = case
    orig = display_to_original(perm, vec)
    assert sorted(orig) == sorted(vec)
    assert all(orig[perm[j]] == vec[j] for j in range(len(perm)))


@pytest.mark.parametrize("k", [2, 3, 5, 7])
def test_order_specifications(k):
    ident = tuple(range(k))
    assert orders_for("original", k) == [("original", ident)]
    assert orders_for("reversed", k) == [("reversed", ident[::-1])]
    cyc = orders_for("cyclic", k)
    assert len(cyc) == k and all(is_permutation(p, k) for _, p in cyc)
    # a Latin square: every option appears exactly once in every display position
    for pos in range(k):
        assert sorted(p[pos] for _, p in cyc) == list(range(k))
    assert orders_for("latin", k) == cyc
    assert len(orders_for("all", k)) == math.factorial(k)
    rnd = orders_for({"random": 3, "seed": 1}, k)
    assert len(rnd) == min(3, math.factorial(k)) and len({p for _, p in rnd}) == len(rnd)
    assert rnd == orders_for({"random": 3, "seed": 1}, k), "random orders are reproducible from the seed"


def test_expand_orders_deduplicates():
    out = expand_orders(["original", "cyclic", "reversed"], 2)
    assert [n for n, _ in out] == ["original", "shift1"]  # reversed == shift1 for two options


@pytest.mark.parametrize("spec", ["sideways", "shift:x", {"random": 0}, {"rand": 2}])
def test_bad_order_specifications(spec):
    with pytest.raises(StudyError):
        orders_for(spec, 5)


def test_all_orders_refused_for_many_options():
    with pytest.raises(StudyError, match="random: N"):
        orders_for("all", 9)
