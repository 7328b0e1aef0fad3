"""The array form of the screening measures equals their definition written as loops over respondents and pairs.

``_loop_position`` and ``_loop_respondents`` below are the measures exactly as the module docstring of
:mod:`psychometrika.stats.screening` defines them (every pair of answers to one item under two orders; every
respondent's answers in natural item order). The shipped code counts pairs and aggregates groups instead; on
random response tables with missing answers, refusals, unkeyed items, items without a scale and unequal
respondents both must give the same numbers.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest

from psychometrika.stats.screening import _position_measures, _respondent_measures, _raw_answer, _scale_ends

RESP = ["instruction_id", "order_id", "seed"]


def _natural(s):
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", str(s))]


def _loop_position(cell, resp_cols):
    answered = cell[(cell["chosen_position"] >= 0) & (cell["chosen_option"] >= 0)]
    ctx = [c for c in resp_cols if c != "order_id"] + ["item"]
    pos_only = same = pairs = n = 0
    for _, g in answered.groupby(ctx, sort=False, dropna=False):
        rows = list(zip(g["permutation"].map(tuple), g["chosen_position"], g["chosen_option"]))
        if len({r[0] for r in rows}) < 2:
            continue
        n += 1
        for a in range(len(rows)):
            for b in range(a + 1, len(rows)):
                if rows[a][0] == rows[b][0]:
                    continue
                pairs += 1
                pos_only += rows[a][1] == rows[b][1] and rows[a][2] != rows[b][2]
                same += rows[a][2] == rows[b][2]
    return (math.nan, math.nan, 0) if pairs == 0 else (pos_only / pairs, same / pairs, n)


def _longest(seq):
    best = run = 0
    prev = object()
    for x in seq:
        run = run + 1 if x == prev else 1
        prev, best = x, max(best, run)
    return best


def _loop_respondents(cell, resp_cols):
    ok = cell[cell["status"].eq("ok")]
    ends = ok["option_values"].map(_scale_ends)
    pomp = (_raw_answer(ok, "chosen") - ends.map(lambda e: e[0])) / (ends.map(lambda e: e[1]) - ends.map(lambda e: e[0]))
    centred = 2 * pomp - 1
    one, longs, irvs, acq, both = [], [], [], [], []
    for _, idx in ok.groupby(resp_cols, sort=False, dropna=False).groups.items():
        r = ok.loc[idx]
        if len(r) < 2:
            continue
        order = sorted(range(len(r)), key=lambda i: _natural(r["item"].iloc[i]))
        opts = [o for o in r["chosen_option"].to_numpy()[order] if o >= 0]
        if len(opts) >= 2:
            one.append(pd.Series(opts).value_counts().iloc[0] / len(opts))
            longs.append(_longest(opts) / len(opts))
        p = pomp.loc[idx].dropna()
        if len(p) >= 2:
            irvs.append(float(p.std(ddof=0)))
        per_scale = []
        for _, s_idx in r.groupby(r["scale"], sort=False).groups.items():
            cs, ks = centred.loc[s_idx], r.loc[s_idx, "keyed"]
            fwd, rev = cs[ks > 0].dropna(), cs[ks < 0].dropna()
            if len(fwd) and len(rev):
                per_scale.append((fwd.mean(), rev.mean()))
        if per_scale:
            f, b = np.mean([x for x, _ in per_scale]), np.mean([y for _, y in per_scale])
            acq.append((f + b) / 2)
            both.append(float(f > 0 and b > 0))
    mean = lambda v: float(np.mean(v)) if v else math.nan  # noqa: E731
    return {"one_option_share": mean(one), "longstring": mean(longs), "irv": mean(irvs), "acquiescence": mean(acq),
            "acquiescence_extreme": float(max(acq, key=abs)) if acq else math.nan, "agree_both_share": mean(both)}


def _random_cell(seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    orders = {"original": [0, 1, 2, 3, 4], "reversed": [4, 3, 2, 1, 0], "cyclic": [1, 2, 3, 4, 0]}
    rows = []
    for instr in ("i0", "i1", "i2"):
        for s in range(int(rng.integers(1, 3))):
            for order in rng.choice(list(orders), size=int(rng.integers(1, 4)), replace=False):
                perm = orders[order]
                for i in range(int(rng.integers(1, 14))):
                    pos = int(rng.integers(0, 5)) if rng.random() > 0.3 else 0
                    missing = rng.random() < 0.08
                    opt = -1 if missing else perm[pos]
                    rows.append({"instruction_id": instr, "order_id": order, "seed": s, "item": f"q{i + 1}",
                                 "scale": [None, "A", "B"][i % 3] if rng.random() > 0.1 else "A",
                                 "keyed": [1, -1, np.nan][int(rng.integers(0, 3))], "permutation": perm,
                                 "option_values": [1.0, 2.0, 3.0, 4.0, 5.0], "chosen_position": -1 if missing else pos,
                                 "chosen_option": opt, "chosen_value": np.nan if missing else float(opt + 1),
                                 "parsed_value": np.nan,
                                 "status": "refused" if rng.random() < 0.05 else "ok"})
    return pd.DataFrame(rows)


@pytest.mark.parametrize("seed", range(12))
def test_counted_measures_equal_the_loop_definition(seed):
    cell = _random_cell(seed)
    ok = cell[cell["status"].eq("ok")]
    np.testing.assert_allclose(_position_measures(ok, RESP), _loop_position(ok, RESP), rtol=1e-12, equal_nan=True)
    got, want = _respondent_measures(cell, RESP, "chosen"), _loop_respondents(cell, RESP)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, rel=1e-12, nan_ok=True), k


def test_a_first_position_responder_under_two_orders_is_all_position():
    cell = _random_cell(0)
    cell = cell[cell["order_id"].isin(["original", "reversed"]) & cell["status"].eq("ok")].copy()
    cell["chosen_position"] = 0
    cell["chosen_option"] = cell["permutation"].map(lambda p: p[0])
    pos_only, content, groups = _position_measures(cell, RESP)
    # original shows option 0 first, reversed option 4: every cross-order pair is the same position, other meaning
    assert (pos_only, content) == (1.0, 0.0) and groups > 0


def test_row_measures_stacked_equal_the_row_definition():
    from psychometrika.stats.screening import (_entropy, _entropy_rows, _label_mass, _label_mass_rows, _per_row,
                                               _scale_ends_rows)

    rng = np.random.default_rng(5)
    vecs = [list(rng.dirichlet(np.ones(k))) for k in (2, 5, 5, 7)] + [[0.0, 0.0], [1.0], [], None, [np.nan, 0.5],
                                                                      [0.0, 1.0, 0.0], "bad", [3.0, 3.0]]
    s = pd.Series(vecs, dtype=object)
    np.testing.assert_allclose(_per_row(s, _entropy_rows, _entropy), [_entropy(v) for v in vecs], equal_nan=True)
    logs = pd.Series([np.log(v) if isinstance(v, list) and v and min(v) > 0 else v for v in vecs], dtype=object)
    np.testing.assert_allclose(_per_row(logs, _label_mass_rows, _label_mass), [_label_mass(v) for v in logs],
                               equal_nan=True)
    ends = _per_row(s, _scale_ends_rows, _scale_ends, width=2)
    np.testing.assert_allclose(ends, [_scale_ends(v) for v in vecs], equal_nan=True)
