"""The project's own SJT bank (sjt-core) and the psychTools bfi-25 instrument with its human norms.

bfi-25: the item texts and keys below are copied from R (``psychTools::bfi.dictionary`` and the ``bfi.keys`` of
``?bfi``, psychTools 2.2.9), not read back from the YAML, so a mistyped text or key fails here. The norms are
checked three ways: the YAML block equals the JSON written by ``instruments/norms/bfi25_norms.R``; the scale and
item statistics are recomputed in Python from the committed data ``tests/r/fixtures/bfi.csv`` (psychTools::bfi);
the loading pattern is recomputed with ``pm.fa`` (itself validated against ``psych::fa``).
"""

from __future__ import annotations

import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from psychometrika.instruments import builtin_dir, load_instrument_file
from psychometrika.scoring.core import sjt_trait_scores
from psychometrika.stats.factor import fa
from psychometrika.stats.reliability import score_items

SJT = builtin_dir() / "sjt-core.yaml"
BFI25 = builtin_dir() / "bfi-25.yaml"
NORMS_DIR = builtin_dir() / "norms"
NORMS_JSON = NORMS_DIR / "bfi25_norms.json"
BFI_CSV = Path(__file__).resolve().parents[1] / "r" / "fixtures" / "bfi.csv"

SJT_SCALES = {"O": "Openness", "C": "Conscientiousness", "E": "Extraversion", "A": "Agreeableness",
              "N": "Neuroticism", "MACH": "Machiavellianism", "NARC": "Narcissism", "PSYC": "Psychopathy"}

# psychTools::bfi.dictionary$Item (psychTools 2.2.9), in column order A1..O5
BFI_TEXTS = {
    "A1": "Am indifferent to the feelings of others.", "A2": "Inquire about others' well-being.",
    "A3": "Know how to comfort others.", "A4": "Love children.", "A5": "Make people feel at ease.",
    "C1": "Am exacting in my work.", "C2": "Continue until everything is perfect.",
    "C3": "Do things according to a plan.", "C4": "Do things in a half-way manner.", "C5": "Waste my time.",
    "E1": "Don't talk a lot.", "E2": "Find it difficult to approach others.", "E3": "Know how to captivate people.",
    "E4": "Make friends easily.", "E5": "Take charge.",
    "N1": "Get angry easily.", "N2": "Get irritated easily.", "N3": "Have frequent mood swings.",
    "N4": "Often feel blue.", "N5": "Panic easily.",
    "O1": "Am full of ideas.", "O2": "Avoid difficult reading material.",
    "O3": "Carry the conversation to a higher level.", "O4": "Spend time reflecting on things.",
    "O5": "Will not probe deeply into a subject.",
}
# the bfi.keys of ?bfi
BFI_KEYS = {"A": ["-A1", "A2", "A3", "A4", "A5"], "C": ["C1", "C2", "C3", "-C4", "-C5"],
            "E": ["-E1", "-E2", "E3", "E4", "E5"], "N": ["N1", "N2", "N3", "N4", "N5"],
            "O": ["O1", "-O2", "O3", "O4", "-O5"]}


@pytest.fixture(scope="module")
def sjt():
    return load_instrument_file(SJT)


@pytest.fixture(scope="module")
def bfi25():
    return load_instrument_file(BFI25)


@pytest.fixture(scope="module")
def norms_json():
    return json.loads(NORMS_JSON.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bfi_data():
    if not BFI_CSV.exists():
        pytest.skip("tests/r/fixtures/bfi.csv (psychTools::bfi) is not in this checkout")
    return pd.read_csv(BFI_CSV)


def _apply_norms_module():
    spec = importlib.util.spec_from_file_location("apply_norms", NORMS_DIR / "apply_norms.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# ------------------------------------------------------------------------------------------------ both files
@pytest.mark.parametrize("path", [SJT, BFI25], ids=lambda p: p.stem)
def test_header_names_source_citation_licence_and_instructions(path: Path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#")
    head = text.split("\nid:")[0]
    for word in ("Source:", "Citation:", "Licence:"):
        assert word in head, f"{path.name}: header lacks {word!r}"
    inst = load_instrument_file(path)
    assert 2 <= len(inst.instructions) <= 3
    assert len({i.text for i in inst.instructions}) == len(inst.instructions)


# ------------------------------------------------------------------------------------------------ sjt-core
def test_sjt_identity_and_licence(sjt):
    assert sjt.id == "sjt-core" and sjt.family == "sjt"
    assert sjt.licence.id == "CC-BY-4.0" and not sjt.licence.research_use_only
    assert sjt.licence.redistribution == "Written for psychometrika; share and adapt with attribution."
    assert "IPIP" in SJT.read_text(encoding="utf-8").split("\nid:")[0]
    assert sjt.response_format.type == "multiple_choice"
    assert sjt.question


def test_sjt_has_40_items_and_the_8_trait_scales(sjt):
    assert len(sjt.items) >= 40
    assert {s.id: s.name for s in sjt.scales} == SJT_SCALES
    assert all(re.fullmatch(r"sjt-[a-z]\d\d", it.id) for it in sjt.items)
    assert all(it.facet is None for it in sjt.items)


def test_sjt_every_scale_has_5_primary_items_spanning_the_trait(sjt):
    primary = Counter()
    positive = Counter()
    for it in sjt.items:
        assert it.scale in SJT_SCALES, f"{it.id}: primary trait {it.scale!r}"
        for s in SJT_SCALES:
            if any(o.weights.get(s, 0) > 0 for o in it.options):
                positive[s] += 1
        w = [o.weights.get(it.scale, 0.0) for o in it.options]
        # the options span the primary trait: a high pole, a low pole and a middle option keyed 0 on it
        assert max(w) == 1 and min(w) == -1, f"{it.id}: primary weights {w}"
        assert any(it.scale in o.weights and o.weights[it.scale] == 0 for o in it.options), it.id
        # a distractor keyed to another trait
        assert any(set(o.weights) - {it.scale} for o in it.options), f"{it.id} has no distractor"
        primary[it.scale] += 1
    assert all(primary[s] >= 5 for s in SJT_SCALES), primary
    assert all(positive[s] >= 5 for s in SJT_SCALES), positive
    members = sjt.scale_items()
    assert all(len(members[s]) >= 5 for s in SJT_SCALES)


def test_sjt_options_are_well_formed(sjt):
    for it in sjt.items:
        assert 3 <= len(it.options) <= 5, it.id
        assert len({o.id for o in it.options}) == len(it.options), it.id
        texts = [o.text for o in it.options]
        assert len(set(texts)) == len(texts), it.id
        assert all(t.endswith(".") and t[0].isupper() for t in texts), it.id
        lengths = [len(t) for t in texts]
        assert max(lengths) / min(lengths) <= 1.6, f"{it.id}: option lengths {lengths}"
        assert all(w in (-1, 0, 1) for o in it.options for w in o.weights.values()), it.id


def test_sjt_scenarios_are_unique(sjt):
    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s.lower()).strip()
    scen = [norm(it.scenario) for it in sjt.items]
    assert all(scen)
    dup = [s for s, n in Counter(scen).items() if n > 1]
    assert not dup, dup


def test_sjt_keyed_pole_is_not_always_in_the_same_position(sjt):
    positions = Counter(next(i for i, o in enumerate(it.options) if o.weights.get(it.scale) == 1) for it in sjt.items)
    assert len(positions) >= 3 and max(positions.values()) <= len(sjt.items) / 2, positions


@pytest.mark.parametrize("item, text, weights", [
    ("sjt-a01", "Offer to take part of the task off their hands.", {"A": 1}),
    ("sjt-a03", "Tell them sharply to watch where they're going.", {"A": -1}),
    ("sjt-c01", "Leave it until the night before and rush through it.", {"C": -1}),
    ("sjt-e02", "Volunteer straight away; you enjoy speaking to a crowd.", {"E": 1}),
    ("sjt-n01", "Spend the evening imagining everything that might have gone wrong.", {"N": 1}),
    ("sjt-o04", "Watch the comedy; you know you'll enjoy it.", {"O": -1}),
    ("sjt-m02", "Accept the praise and say nothing to correct it.", {"MACH": 1}),
    ("sjt-m02", "Make clear that the idea came from your colleague.", {"MACH": -1}),
    ("sjt-r04", "Tell the host that someone like you shouldn't have to wait.", {"NARC": 1}),
    ("sjt-p05", "Withdraw more cash and bet bigger to win it back.", {"PSYC": 1}),
    ("sjt-p05", "Buy a round of drinks and get the whole table talking.", {"E": 1}),
])
def test_sjt_sample_keys(sjt, item, text, weights):
    opts = {o.text: o.weights for o in sjt.item(item).options}
    assert opts[text] == weights


def test_sjt_expected_and_chosen_scores_hand_computed(sjt):
    # sjt-p05: options in file order; probabilities 0.1, 0.2, 0.3, 0.4
    it = sjt.item("sjt-p05")
    probs = [0.1, 0.2, 0.3, 0.4]
    psyc = [o.weights.get("PSYC", 0.0) for o in it.options]
    e = [o.weights.get("E", 0.0) for o in it.options]
    hand_psyc = sum(p * w for p, w in zip(probs, psyc))
    hand_e = sum(p * w for p, w in zip(probs, e))
    # by the key table above: the +1 PSYC option and the +1 E option sit somewhere; check against literals
    pos = {o.text: i for i, o in enumerate(it.options)}
    expect_psyc = (probs[pos["Withdraw more cash and bet bigger to win it back."]]
                   - probs[pos["Stop playing and just watch your friends."]])
    assert hand_psyc == pytest.approx(expect_psyc)
    resp = pd.DataFrame({"model": ["m"], "item": ["sjt-p05"], "probs": [probs], "status": ["ok"],
                         "chosen_option": [pos["Stop playing and just watch your friends."]]})
    exp = sjt_trait_scores(resp, sjt, source="expected", by=["model"]).set_index("scale")["score"]
    assert exp["PSYC"] == pytest.approx(expect_psyc, abs=1e-12)
    assert exp["E"] == pytest.approx(hand_e, abs=1e-12)
    assert exp["E"] == pytest.approx(probs[pos["Buy a round of drinks and get the whole table talking."]])
    cho = sjt_trait_scores(resp, sjt, source="chosen", by=["model"]).set_index("scale")["score"]
    assert cho["PSYC"] == -1.0 and cho["E"] == 0.0


# ------------------------------------------------------------------------------------------------ bfi-25
def test_bfi25_items_texts_and_keys_match_psychtools(bfi25):
    assert bfi25.id == "bfi-25" and bfi25.family == "big-five"
    assert [it.id for it in bfi25.items] == list(BFI_TEXTS)
    for it in bfi25.items:
        shown = bfi25.stem.format(text=it.text)
        assert shown == "I " + BFI_TEXTS[it.id][0].lower() + BFI_TEXTS[it.id][1:], it.id
        assert it.scale == it.id[0]
    assert {it.id for it in bfi25.items if it.keyed == -1} == {"A1", "C4", "C5", "E1", "E2", "O2", "O5"}
    keys = {s: [("-" if bfi25.item(i).keyed == -1 else "") + i for i in items]
            for s, items in bfi25.scale_items().items()}
    assert keys == BFI_KEYS
    assert [s.id for s in bfi25.scales] == ["A", "C", "E", "N", "O"]
    assert bfi25.scoring == "mean"


def test_bfi25_six_point_scale_and_public_domain(bfi25):
    fmt = bfi25.response_format
    assert fmt.type == "likert" and fmt.values == [1, 2, 3, 4, 5, 6]
    assert fmt.labels == ["Very Inaccurate", "Moderately Inaccurate", "Slightly Inaccurate", "Slightly Accurate",
                          "Moderately Accurate", "Very Accurate"]
    assert bfi25.licence.id == "public-domain" and not bfi25.licence.research_use_only
    cites = " ".join(c.text for c in bfi25.citations)
    assert "psychTools" in cites and "Goldberg" in cites


def test_bfi25_norms_equal_the_json(bfi25, norms_json):
    n = bfi25.norms
    assert n is not None
    assert [s.scale for s in n.scales] == ["A", "C", "E", "N", "O"]
    by_scale = {s["scale"]: s for s in norms_json["scales"]}
    for s in n.scales:
        j = by_scale[s.scale]
        assert (s.mean, s.sd, s.n) == (j["mean"], j["sd"], j["n"])
        assert s.source == norms_json["source"] and s.population == norms_json["population"]
    assert n.loadings == norms_json["loadings"]
    assert n.loadings_source == norms_json["loadings_source"]
    assert n.items == {k: {"mean": v["mean"], "sd": v["sd"], "n": float(v["n"])}
                       for k, v in norms_json["items"].items()}


def test_apply_norms_is_idempotent_and_replaces_only_its_block(norms_json):
    mod = _apply_norms_module()
    text = BFI25.read_text(encoding="utf-8")
    block = mod.norms_block(norms_json)
    assert mod.apply(text, block) == text  # the committed YAML is what the script writes
    assert text.count(mod.START) == 1 and text.count(mod.END) == 1
    stale = text.replace(block, mod.START + "\nnorms: {scales: []}\n" + mod.END + "\n")
    assert stale != text and mod.apply(stale, block) == text
    bare = text.replace(block, "")
    assert mod.apply(mod.apply(bare, block), block) == mod.apply(bare, block)
    assert mod.main(["--check"]) == 0


def test_norm_scale_scores_reproduced_from_the_bfi_data(bfi25, bfi_data):
    items = bfi_data[list(BFI_TEXTS)]
    assert items.shape == (2800, 25)
    norms = {s.scale: s for s in bfi25.norms.scales}
    # plain pandas: reverse keys as 7 - x, mean of the answered items (psych scoreItems, impute = "none")
    for scale, keys in BFI_KEYS.items():
        cols = [7 - items[k[1:]] if k.startswith("-") else items[k] for k in keys]
        score = pd.concat(cols, axis=1).mean(axis=1, skipna=True).dropna()
        assert score.mean() == pytest.approx(norms[scale].mean, abs=1e-6)
        assert score.std(ddof=1) == pytest.approx(norms[scale].sd, abs=1e-6)
        assert len(score) == norms[scale].n
    # and the package's own psych::scoreItems
    res = score_items(BFI_KEYS, items, impute="none", min_value=1, max_value=6)
    for scale in BFI_KEYS:
        assert res.scores[scale].mean() == pytest.approx(norms[scale].mean, abs=1e-6)
        assert res.scores[scale].std(ddof=1) == pytest.approx(norms[scale].sd, abs=1e-6)
    # the published ordering of the bfi scale means: A highest, N lowest
    means = {s: norms[s].mean for s in norms}
    assert max(means, key=means.get) == "A" and min(means, key=means.get) == "N"


def test_norm_item_statistics_reproduced_from_the_bfi_data(bfi25, bfi_data):
    for item, st in bfi25.norms.items.items():
        x = bfi_data[item].dropna()
        assert x.mean() == pytest.approx(st["mean"], abs=1e-9)
        assert x.std(ddof=1) == pytest.approx(st["sd"], abs=1e-9)
        assert len(x) == st["n"]


def test_norm_loadings_mark_their_domains_and_match_pm_fa(bfi25, bfi_data):
    L = pd.DataFrame(bfi25.norms.loadings).T[["A", "C", "E", "N", "O"]]
    assert list(L.index) == list(BFI_TEXTS)
    for item, row in L.iterrows():
        own = item[0]
        assert row.abs().idxmax() == own, f"{item} loads most on {row.abs().idxmax()}"
        sign = -1 if item in {"A1", "C4", "C5", "E1", "E2", "O2", "O5"} else 1
        assert np.sign(row[own]) == sign, item
    # well-known values of psych::fa(bfi[1:25], 5): N1 ~ .81 on N, E2 ~ -.68 on E
    assert L.loc["N1", "N"] == pytest.approx(0.81, abs=0.01)
    assert L.loc["E2", "E"] == pytest.approx(-0.68, abs=0.01)
    res = fa(bfi_data[list(BFI_TEXTS)], nfactors=5, fm="minres", rotate="oblimin")
    P = res.loadings
    for dom in L.columns:  # match each named factor to pm.fa's factor by the largest |correlation|
        r = [abs(np.corrcoef(L[dom], P[c])[0, 1]) for c in P.columns]
        col = P.columns[int(np.argmax(r))]
        sign = np.sign(np.corrcoef(L[dom], P[col])[0, 1])
        np.testing.assert_allclose(sign * P[col].to_numpy(), L[dom].to_numpy(), atol=2e-3)
