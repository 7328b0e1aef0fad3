"""Persona-attribute effects and measurement invariance across attribute groups (chapter 08) on a simulated
population with planted truth: two simulated models answer BFI-44 extraversion as the same 256 generated
personas (region north/south x manner calm/eager x 64); model ``shifted`` raises the latent extraversion of the
southern personas by 1 SD (a true mean difference: invariance holds, d is large), model ``yeasaying`` gives the
eager personas an acquiescence shift (they agree more with every item, reverse-keyed ones too: the item
intercepts differ, so scalar invariance fails and the reverse-keyed items are the partial-invariance
candidates)."""

from __future__ import annotations

import re

import pytest

from psychometrika.report.statistics import compute_statistics

N_NUM = 64


@pytest.fixture(scope="module")
def attribute_run(tmp_path_factory):
    from psychometrika.engine.run import run_study
    from psychometrika.tools.simulate import write_parameters

    folder = tmp_path_factory.mktemp("attrinv")
    write_parameters(folder / "shift.json", ["bfi-44"], personas={"from the south": {"shift": {"E": 1.0}}})
    write_parameters(folder / "yea.json", ["bfi-44"], personas={"eager manner": {"acquiescence": 1.0}})
    # cohort: a third attribute whose 'pilot' group (16 personas) is below the invariance rule
    nums = [{"num": k, "cohort": "pilot" if k <= 4 else "main"} for k in range(1, N_NUM + 1)]
    (folder / "study.yaml").write_text(f"""id: attr-inv
instruments: [{{id: bfi-44, scales: [E]}}]
models:
  - {{id: shifted, backend: simulated, settings: {{parameters: {folder / 'shift.json'}, seed: 3}}}}
  - {{id: yeasaying, backend: simulated, settings: {{parameters: {folder / 'yea.json'}, seed: 3}}}}
personas:
  include_none: false
  generate:
    template: "You are respondent {{num}}, from the {{region}}, with {{manner|a}} manner."
    attributes: {{num: {nums}, region: [north, south], manner: [calm, eager]}}
paraphrases: {{instructions: 1}}
option_orders: [original]
""")
    run_study(folder / "study.yaml", folder / "run", progress=False)
    return compute_statistics(folder / "run", sections=["personas"])


def _levels(inv, model, attribute):
    return inv[(inv.model == model) & (inv.attribute == attribute)].set_index("level")


def test_attribute_effects_recover_the_planted_mean_difference(attribute_run):
    eff = attribute_run.tables["persona_attribute_effects"].set_index(["model", "attribute"])
    south = eff.loc[("shifted", "region")]
    assert (south["group1"], south["group2"]) == ("north", "south")
    assert south["mean2"] > south["mean1"] and south["d_CI_high"] < -0.5  # south higher, a large effect
    for model, attr in (("shifted", "manner"), ("yeasaying", "region")):  # nothing planted: CI covers 0
        r = eff.loc[(model, attr)]
        assert r["d_CI_low"] < 0 < r["d_CI_high"]
    assert 120 <= south["n1"] <= 128 and 120 <= south["n2"] <= 128


def test_invariance_holds_under_a_mean_shift_and_fails_at_scalar_under_acquiescence(attribute_run):
    import psychometrika as pm

    inv = attribute_run.tables["persona_invariance"]
    shifted = _levels(inv, "shifted", "region")
    assert list(shifted.index) == ["configural", "metric", "scalar", "strict"]
    assert shifted.loc[["configural", "metric", "scalar"], "holds"].all()
    assert shifted.loc["configural", "cfi"] > 0.95
    yea = _levels(inv, "yeasaying", "manner")
    assert yea.loc[["configural", "metric"], "holds"].all() and yea.loc["configural", "cfi"] > 0.95
    assert not yea.loc["scalar", "holds"] and yea.loc["scalar", "delta_cfi"] < -0.1
    assert "north (n = " in shifted["groups"].iloc[0] and "eager (n = " in yea["groups"].iloc[0]
    notes = attribute_run.notes["personas"]
    assert "bfi-44 E (yeasaying) by manner: highest invariance level that holds: metric." in notes
    # the partial-invariance candidates of the acquiescent group are the reverse-keyed items
    part = attribute_run.tables["persona_invariance_partial"]
    cand = set(part[(part.model == "yeasaying") & (part.attribute == "manner")]["item"])
    ins = pm.load_instrument("bfi-44")
    reversed_e = {i for i in ins.scale_items()["E"] if ins.item(i).keyed < 0}
    assert cand == reversed_e and len(cand) == 3


def test_invariance_is_withheld_below_the_group_rule_with_the_reason(attribute_run):
    inv = attribute_run.tables["persona_invariance"]
    assert "cohort" not in set(inv["attribute"])
    note = next(n for n in attribute_run.notes["personas"] if n.startswith("bfi-44 E (shifted) by cohort"))
    assert "withheld" in note and "at least two groups of 20 or more personas" in note
    # group sizes in words (240 main personas, less any that response screening left out)
    assert re.search(r"the groups hold main 2[34]\d, pilot 16 personas\.$", note), note
