"""The three shipped public-domain IPIP instruments: counts, scale membership and keys against the published keys.

The tables below are written from the published scoring keys (ipip.ori.org: the IPIP-50 Big-Five Factor Markers
key and the 16PF-analog key page; Johnson, 2014, for the IPIP-NEO-120), not read back from the YAML files, so a
mistyped key or a misplaced item in a file makes these tests fail.
"""

from __future__ import annotations

import warnings
from collections import Counter
from pathlib import Path

import pytest

import psychometrika as pm
from psychometrika.instruments import builtin_dir, load_instrument_file

IPIP50 = builtin_dir() / "ipip-50.yaml"
NEO120 = builtin_dir() / "ipip-neo-120.yaml"
PF16 = builtin_dir() / "ipip-16pf.yaml"


@pytest.fixture(scope="module")
def ipip50():
    return load_instrument_file(IPIP50)


@pytest.fixture(scope="module")
def neo120():
    return load_instrument_file(NEO120)


@pytest.fixture(scope="module")
def pf16():
    return load_instrument_file(PF16)


def _minus_per_scale(inst, attr: str = "scale") -> dict[str, int]:
    out: Counter[str] = Counter()
    for it in inst.items:
        if it.keyed == -1:
            out[getattr(it, attr)] += 1
    return dict(out)


def _by_text(inst):
    return {inst.stem.format(text=it.text): it for it in inst.items}


# ------------------------------------------------------------------------------------------------ common
@pytest.mark.parametrize("path", [IPIP50, NEO120, PF16], ids=lambda p: p.stem)
def test_file_is_public_domain_ipip_with_header_and_format(path: Path):
    text = path.read_text(encoding="utf-8")
    assert text.startswith("#"), "the file starts with a comment naming source, citation and licence"
    head = text.split("\nid:")[0]
    assert "ipip.ori.org" in head and "Licence: public domain" in head
    inst = load_instrument_file(path)
    assert inst.licence.id == "public-domain" and not inst.licence.research_use_only
    assert inst.licence.source_url == "https://ipip.ori.org/"
    assert [p.id for p in inst.instructions] == ["i1", "i2", "i3"]
    assert "not as you wish to be in the future" in inst.instructions[0].text
    fmt = inst.response_format
    assert fmt.type == "likert" and fmt.values == [1, 2, 3, 4, 5]
    assert fmt.labels == ["Very inaccurate", "Moderately inaccurate", "Neither accurate nor inaccurate",
                          "Moderately accurate", "Very accurate"]
    assert inst.stem == "I {text}."
    assert inst.scoring == "mean"
    for it in inst.items:  # IPIP phrases stored lower-case, without final period, so the stem reads naturally
        assert it.text[0].islower() and not it.text.endswith("."), it.id
    assert any(c.doi for c in inst.citations)


def test_loadable_by_id_from_the_catalogue():
    assert pm.load_instrument("ipip-50").id == "ipip-50"
    assert pm.load_instrument("ipip-neo-120").id == "ipip-neo-120"
    assert pm.load_instrument("ipip-16pf").id == "ipip-16pf"


# ------------------------------------------------------------------------------------------------ IPIP-50
# Published key (ipip.ori.org, 50-item Big-Five Factor Markers): questionnaire items 1..50 cycle E, A, C, ES, I;
# minus-keyed: E 6 16 26 36 46; A 2 12 22 32; C 8 18 28 38; ES 4 14 24 29 34 39 44 49; I 10 20 30.
IPIP50_MINUS_BY_NUMBER = {6, 16, 26, 36, 46, 2, 12, 22, 32, 8, 18, 28, 38, 4, 14, 24, 29, 34, 39, 44, 49, 10, 20, 30}
IPIP50_MINUS_COUNTS = {"E": 5, "A": 4, "C": 4, "ES": 8, "I": 3}


def test_ipip50_counts_and_scales(ipip50):
    assert ipip50.id == "ipip-50" and ipip50.family == "big-five"
    assert len(ipip50.items) == 50
    assert [(s.id, s.name) for s in ipip50.scales] == [
        ("E", "Extraversion"), ("A", "Agreeableness"), ("C", "Conscientiousness"), ("ES", "Emotional Stability"),
        ("I", "Intellect/Imagination")]
    members = ipip50.scale_items()
    assert {s: len(v) for s, v in members.items()} == {"E": 10, "A": 10, "C": 10, "ES": 10, "I": 10}
    assert members["ES"] == [f"es{k}" for k in range(1, 11)]
    assert "10.1037/1040-3590.4.1.26" in {c.doi for c in ipip50.citations}


def test_ipip50_order_and_keys_match_published_key(ipip50):
    cycle = ["E", "A", "C", "ES", "I"]
    for n, it in enumerate(ipip50.items, start=1):
        assert it.scale == cycle[(n - 1) % 5], (n, it.id)
        assert it.id == f"{it.scale.lower()}{(n - 1) // 5 + 1}"
        assert it.keyed == (-1 if n in IPIP50_MINUS_BY_NUMBER else 1), (n, it.text)
    assert _minus_per_scale(ipip50) == IPIP50_MINUS_COUNTS


@pytest.mark.parametrize("sentence, scale, keyed", [
    ("I am the life of the party.", "E", 1),
    ("I don't talk a lot.", "E", -1),
    ("I feel little concern for others.", "A", -1),
    ("I have a soft heart.", "A", 1),
    ("I shirk my duties.", "C", -1),
    ("I am exacting in my work.", "C", 1),
    ("I am relaxed most of the time.", "ES", 1),
    ("I get stressed out easily.", "ES", -1),
    ("I have a rich vocabulary.", "I", 1),
    ("I do not have a good imagination.", "I", -1),
])
def test_ipip50_known_items(ipip50, sentence, scale, keyed):
    it = _by_text(ipip50)[sentence]
    assert (it.scale, it.keyed) == (scale, keyed)


# ------------------------------------------------------------------------------------------------ IPIP-NEO-120
NEO_FACETS = {
    "N": ["Anxiety", "Anger", "Depression", "Self-Consciousness", "Immoderation", "Vulnerability"],
    "E": ["Friendliness", "Gregariousness", "Assertiveness", "Activity Level", "Excitement-Seeking", "Cheerfulness"],
    "O": ["Imagination", "Artistic Interests", "Emotionality", "Adventurousness", "Intellect", "Liberalism"],
    "A": ["Trust", "Morality", "Altruism", "Cooperation", "Modesty", "Sympathy"],
    "C": ["Self-Efficacy", "Orderliness", "Dutifulness", "Achievement-Striving", "Self-Discipline", "Cautiousness"],
}
# Minus-keyed items per facet in Johnson's (2014) key.
NEO_MINUS_PER_FACET = {
    "N1": 0, "N2": 1, "N3": 1, "N4": 1, "N5": 3, "N6": 1,
    "E1": 2, "E2": 2, "E3": 1, "E4": 1, "E5": 0, "E6": 0,
    "O1": 0, "O2": 2, "O3": 2, "O4": 3, "O5": 3, "O6": 2,
    "A1": 1, "A2": 4, "A3": 2, "A4": 4, "A5": 4, "A6": 2,
    "C1": 0, "C2": 3, "C3": 2, "C4": 2, "C5": 2, "C6": 4,
}
NEO_MINUS_PER_DOMAIN = {"N": 7, "E": 6, "O": 12, "A": 17, "C": 13}


def test_neo120_structure(neo120):
    assert neo120.id == "ipip-neo-120" and neo120.family == "big-five"
    assert len(neo120.items) == 120
    assert "10.1016/j.jrp.2014.05.003" in {c.doi for c in neo120.citations}
    scales = {s.id: s for s in neo120.scales}
    assert len(scales) == 35
    members = neo120.scale_items()
    for dom, names in NEO_FACETS.items():
        assert scales[dom].parent is None
        assert len(members[dom]) == 24, dom
        for k, name in enumerate(names, start=1):
            fid = f"{dom}{k}"
            assert (scales[fid].name, scales[fid].parent) == (name, dom)
            assert len(members[fid]) == 4, fid
            assert set(members[fid]) <= set(members[dom])


def test_neo120_johnson_order(neo120):
    # Johnson's administration order: item n measures facet number (n-1) mod 30 in the cycle N1 E1 O1 A1 C1 N2 ...
    cycle = [f"{d}{k}" for k in range(1, 7) for d in "NEOAC"]
    for n, it in enumerate(neo120.items, start=1):
        assert it.id == f"q{n}"
        assert it.facet == cycle[(n - 1) % 30], (n, it.text)
        assert it.scale == it.facet[0]
    assert neo120.scale_items()["N1"] == ["q1", "q31", "q61", "q91"]


def test_neo120_minus_keys_match_published_key(neo120):
    per_facet = {f: 0 for f in NEO_MINUS_PER_FACET} | _minus_per_scale(neo120, "facet")
    assert per_facet == NEO_MINUS_PER_FACET
    assert _minus_per_scale(neo120) == NEO_MINUS_PER_DOMAIN
    assert sum(NEO_MINUS_PER_DOMAIN.values()) == 55


@pytest.mark.parametrize("sentence, facet, keyed", [
    ("I worry about things.", "N1", 1),
    ("I am not easily annoyed.", "N2", -1),
    ("I rarely overindulge.", "N5", -1),
    ("I feel that I'm unable to deal with things.", "N6", 1),
    ("I keep others at a distance.", "E1", -1),
    ("I act wild and crazy.", "E5", 1),
    ("I tend to vote for liberal political candidates.", "O6", 1),
    ("I tend to vote for conservative political candidates.", "O6", -1),
    ("I believe that we should be tough on crime.", "O6", -1),
    ("I use others for my own ends.", "A2", -1),
    ("I sympathize with the homeless.", "A6", 1),
    ("I know how to get things done.", "C1", 1),
    ("I act without thinking.", "C6", -1),
])
def test_neo120_known_items(neo120, sentence, facet, keyed):
    it = _by_text(neo120)[sentence]
    assert (it.facet, it.scale, it.keyed) == (facet, facet[0], keyed)


# ------------------------------------------------------------------------------------------------ IPIP 16PF
PF16_NAMES = {
    "A": "Warmth", "B": "Intellect", "C": "Emotional Stability", "E": "Assertiveness", "F": "Gregariousness",
    "G": "Dutifulness", "H": "Friendliness", "I": "Sensitivity", "L": "Distrust", "M": "Imagination",
    "N": "Reserve", "O": "Anxiety", "Q1": "Complexity", "Q2": "Introversion", "Q3": "Orderliness",
    "Q4": "Emotionality",
}
# ipip.ori.org/new16PFKey.htm: (+ keyed, - keyed) items per scale.
PF16_KEYS = {
    "A": (7, 3), "B": (8, 5), "C": (5, 5), "E": (6, 4), "F": (6, 4), "G": (5, 5), "H": (5, 5), "I": (6, 4),
    "L": (6, 4), "M": (7, 3), "N": (5, 5), "O": (7, 3), "Q1": (5, 5), "Q2": (7, 3), "Q3": (5, 5), "Q4": (7, 3),
}


def test_pf16_structure(pf16):
    assert pf16.id == "ipip-16pf" and pf16.name == "IPIP 16PF-analog scales"
    assert pf16.family == "16pf" and pf16.aliases == ["16pf"]
    assert len(pf16.items) == 163
    assert {s.id: s.name for s in pf16.scales} == PF16_NAMES
    assert [s.id for s in pf16.scales] == list(PF16_NAMES)
    members = pf16.scale_items()
    assert {s: len(v) for s, v in members.items()} == {s: p + m for s, (p, m) in PF16_KEYS.items()}
    assert sum(p + m for p, m in PF16_KEYS.values()) == 163


def test_pf16_keys_match_published_key(pf16):
    # IPIP lists the + keyed items of a scale first, then the - keyed ones; ids are scale_rank
    members = pf16.scale_items()
    for scale, (n_plus, n_minus) in PF16_KEYS.items():
        keys = [pf16.item(i).keyed for i in members[scale]]
        assert keys == [1] * n_plus + [-1] * n_minus, scale
        assert members[scale] == [f"{scale}_{k}" for k in range(1, n_plus + n_minus + 1)]
    assert _minus_per_scale(pf16) == {s: m for s, (_, m) in PF16_KEYS.items()}


@pytest.mark.parametrize("sentence, scale, keyed", [
    ("I know how to comfort others.", "A", 1),
    ("I try not to think about the needy.", "A", -1),
    ("I skip difficult words while reading.", "B", -1),
    ("I readily overcome setbacks.", "C", 1),
    ("I take control of things.", "E", 1),      # OSPP 16PF data column D5
    ("I am the life of the party.", "F", 1),
    ("I like to stand during the national anthem.", "G", 1),
    ("I keep in the background.", "H", -1),     # OSPP G10
    ("I don't like action movies.", "I", 1),
    ("I trust others.", "L", -1),               # OSPP I8
    ("I do things by the book.", "M", -1),
    ("I don't talk a lot.", "N", 1),            # OSPP K3
    ('I feel guilty when I say "no".', "O", 1),  # OSPP L6
    ("I try to avoid complex people.", "Q1", -1),
    ("I can't do without the company of others.", "Q2", -1),  # OSPP N10
    ('I want everything to be "just right".', "Q3", 1),
    ("I have a good word for everyone.", "Q4", -1),  # OSPP P10
])
def test_pf16_known_items(pf16, sentence, scale, keyed):
    it = _by_text(pf16)[sentence]
    assert (it.scale, it.keyed) == (scale, keyed)


def test_16pf_alias_loads_ipip_analog_and_says_it_is_not_the_proprietary_16pf():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        inst = pm.load_instrument("16pf")
    assert inst.id == "ipip-16pf"
    msgs = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(msgs) == 1
    assert "alias of 'ipip-16pf'" in msgs[0]
    assert "proprietary" in msgs[0] and "IPIP" in msgs[0] and "IPAT" in msgs[0]
    # loading by its own id is silent
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pm.load_instrument("ipip-16pf").id == "ipip-16pf"
