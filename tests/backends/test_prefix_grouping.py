"""Prefix grouping and batch splitting of the transformers backend (pure functions, no model)."""

from __future__ import annotations

import itertools

from hypothesis import given, settings
from hypothesis import strategies as st

from psychometrika.backends.hf import _even_chunks, _lcp, _prefix_groups


def _saved(seqs, groups):
    return sum((len(g) - 1) * p for g, p in groups)


def test_option_orders_get_one_group_each_not_one_shared_short_prefix():
    system, scale_start = list(range(100)), [500]
    seqs = []
    for order in itertools.permutations([1, 2, 3]):  # 6 orders: the scale differs after 101 tokens
        scale = [1000 + o for o in order for _ in range(10)]
        for item in range(8):
            seqs.append(system + scale_start + scale + [2000 + item, 3000 + item])
    seqs.sort()
    groups = _prefix_groups(seqs, min_prefix=16)
    assert len(groups) == 6 and all(len(g) == 8 for g, _ in groups)
    assert {p for _, p in groups} == {131}  # system + scale; the merged alternative would be 101 or less


def test_a_long_shared_prefix_is_not_split_for_a_small_gain():
    seqs = sorted([list(range(200)) + [900 + i, 7] for i in range(10)] + [list(range(200)) + [950, 8, 9]])
    assert _prefix_groups(seqs, 16) == [(list(range(11)), 200)]


def test_short_prefixes_and_singletons_run_whole():
    assert _prefix_groups([[1, 2, 3], [4, 5, 6]], 2) == [([0], 0), ([1], 0)]
    assert _prefix_groups([[1, 2, 3], [1, 2, 4]], 5) == [([0], 0), ([1], 0)]
    assert _prefix_groups([], 4) == []
    assert _prefix_groups([[7, 7]], 1) == [([0], 0)]
    # a row that is a prefix of another keeps at least one token of suffix
    assert _prefix_groups([[1, 2, 3], [1, 2, 3, 4]], 1) == [([0, 1], 2)]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), min_size=1, max_size=12), min_size=1, max_size=25),
       st.integers(1, 4))
def test_groups_partition_the_rows_and_their_prefixes_are_shared(seqs, min_prefix):
    seqs = sorted(seqs)
    groups = _prefix_groups(seqs, min_prefix)
    assert [i for g, _ in groups for i in g] == list(range(len(seqs)))  # contiguous partition, in order
    for g, p in groups:
        if p:
            assert p >= min_prefix and len(g) > 1
            assert all(len(seqs[i]) > p and seqs[i][:p] == seqs[g[0]][:p] for i in g)
    # never worse than one group for everything, or no grouping at all
    whole = min(min(len(s) - 1 for s in seqs), min((_lcp(seqs[0], s) for s in seqs), default=0))
    baseline = (len(seqs) - 1) * whole if whole >= min_prefix else 0
    assert _saved(seqs, groups) >= baseline


def test_even_chunks_have_no_small_tail():
    sizes = [len(c) for c in _even_chunks(list(range(1056)), 1024)]
    assert sizes == [528, 528]
    assert [len(c) for c in _even_chunks(list(range(9)), 4)] == [3, 3, 3]
    assert _even_chunks([], 8) == []
    assert sum(_even_chunks(list(range(37)), 5), []) == list(range(37))
    assert max(len(c) for c in _even_chunks(list(range(37)), 5)) <= 5
