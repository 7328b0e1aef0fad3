"""Instrument.kind / item_kind / is_behaviour and options_of: one decision per instrument, used by every stage."""

from __future__ import annotations

import pytest

from psychometrika.instruments import load_instrument


@pytest.mark.parametrize("iid, kind, behaviour", [
    ("bfi-44", "likert", False), ("sd3", "likert", False), ("sjt-core", "choice", True),
    ("probes", "choice", True), ("econ-games", "numeric", True), ("risk-task", "choice", True),
    ("writing-task", "text", True),
])
def test_kind_of_each_shipped_instrument(iid, kind, behaviour):
    ins = load_instrument(iid)
    assert ins.kind == kind
    assert ins.is_behaviour is behaviour   # economic games are behaviour, as behaviour_scores treats them


def test_item_kind_follows_an_item_override():
    risk = load_instrument("risk-task")
    kinds = {risk.item_kind(it) for it in risk.items}
    assert kinds == {"choice", "numeric"}     # lotteries and the card task's numeric items


def test_options_of_likert_choice_and_open_items():
    bfi = load_instrument("bfi-44")
    opts = bfi.options_of(bfi.items[0])
    assert opts.texts[0] == "Disagree strongly" and opts.values == (1.0, 2.0, 3.0, 4.0, 5.0) and len(opts) == 5
    sjt = load_instrument("sjt-core")
    item = sjt.items[0]
    o = sjt.options_of(item.id)
    assert o.texts == tuple(x.text for x in item.options)
    assert o.values == tuple(float(x.value) if x.value is not None else float(i) for i, x in enumerate(item.options))
    games = load_instrument("econ-games")
    assert len(games.options_of(games.items[0])) == 0
