"""Study files: validation with file/line/field, design expansion and the prompt plan."""

from __future__ import annotations

from pathlib import Path

import pytest

from psychometrika.design import load_study, study_hash
from psychometrika.engine.session import load_checked_study
from psychometrika.errors import StudyError
from psychometrika.plan import build_plan, plan_summary

DATA = Path(__file__).resolve().parent.parent / "data"

STUDY = f"""\
id: t
seed: 3
instruments:
  - {DATA / 'mini.yaml'}
  - {DATA / 'mini-sjt.yaml'}
models:
  - {{id: m1, backend: dummy}}
personas:
  include_none: true
  items:
    - {{id: warm, text: "You are warm."}}
paraphrases: {{instructions: all, stems: all}}
option_orders: [original, reversed]
label_schemes: [numeric, letters]
"""


def _study(tmp_path: Path, text: str = STUDY) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(text)
    return p


def test_full_factorial(tmp_path):
    s = load_study(_study(tmp_path))
    plan = build_plan(s)
    # mini: 5 items + 1 stem paraphrase (e1) = 6 stems, x 2 personas x 2 instructions x 2 orders x 2 label schemes
    # mini-sjt: 2 items x 2 personas x 1 instruction x 2 orders x 2 schemes
    assert len(plan) == 6 * 2 * 2 * 2 * 2 + 2 * 2 * 1 * 2 * 2
    assert plan["cell_key"].is_unique
    row = plan[(plan["item"] == "e2") & (plan["order_id"] == "reversed") & (plan["label_scheme"] == "letters")
               & (plan["persona"] == "warm") & (plan["instruction_id"] == "i2")].iloc[0]
    msgs = row["messages"]
    assert msgs[0] == {"role": "system", "content": "You are warm."}
    user = msgs[1]["content"]
    assert user.startswith("Rate how accurately each statement describes you.")
    assert "A. Very accurate\nB. Moderately accurate" in user and "I don't talk a lot." in user
    assert user.index("Response options") < user.index("I don't talk a lot."), "the shared scale precedes the item"
    assert row["continuations"] == ["A", "B", "C", "D", "E"]
    assert row["permutation"] == [4, 3, 2, 1, 0] and row["keyed"] == -1
    none = plan[plan["persona"] == "none"].iloc[0]
    assert [m["role"] for m in none["messages"]] == ["user"]
    sjt = plan[plan["instrument"] == "mini-sjt"].iloc[0]["messages"][-1]["content"]
    assert sjt.index("A colleague takes credit") < sjt.index("Options:")
    summary = plan_summary(s, plan)
    assert summary["prompts"] == len(plan) and 0 < summary["shared_prefix_share"] < 1


def test_subsets_and_hash(tmp_path):
    text = STUDY.replace(f"  - {DATA / 'mini.yaml'}\n", f"  - {{id: {DATA / 'mini.yaml'}, scales: [A]}}\n")
    s = load_study(_study(tmp_path, text))
    plan = build_plan(s)
    assert set(plan[plan["instrument"] == "mini"]["item"]) == {"a1", "a2"}
    assert study_hash(s) != study_hash(load_study(_study(tmp_path)))
    # formatting and comments do not change the hash
    assert study_hash(load_study(_study(tmp_path, "# comment\n" + STUDY))) == study_hash(load_study(_study(tmp_path)))


BROKEN = [
    ("unknown key", ("seed: 3", "sead: 3"), "sead", 2, "Extra inputs"),
    ("bad backend", ("backend: dummy", "backend: gpt"), "models[0].backend", 7, "Input should be"),
    ("duplicate persona", ('{id: warm, text: "You are warm."}', '{id: warm, text: "a"}\n    - {id: warm, text: "b"}'),
     None, None, "duplicate persona id"),
    ("reserved persona", ("{id: warm,", "{id: none,"), None, None, "reserved"),
    ("api key in file", ("{id: m1, backend: dummy}", "{id: m1, backend: openai, settings: {api_key: sk-123}}"),
     "models[0].settings", 7, "never put API keys"),
    ("misspelt backend setting", ("{id: m1, backend: dummy}", "{id: m1, backend: dummy, settings: {delay: 0.1}}"),
     "models[0].settings", 7, "unknown setting(s) delay for backend 'dummy'; it takes: delay_s"),
    ("bad order", ("[original, reversed]", "[original, sideways]"), None, None, "unknown option order"),
    ("too many paraphrases", ("instructions: all", "instructions: 5"), None, None, "first 5"),
    ("unknown scale subset", (f"  - {DATA / 'mini.yaml'}\n", f"  - {{id: {DATA / 'mini.yaml'}, scales: [Z]}}\n"),
     None, None, "no scale(s) ['Z']"),
    ("bad label scheme", ("[numeric, letters]", "[roman]"), "label_schemes[0]", 14, "Input should be"),
    ("no models", ("models:\n  - {id: m1, backend: dummy}", "models: []"), "models", 6, "at least 1"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_studies(tmp_path, case):
    _, (old, new), field, line, msg = case
    assert old in STUDY
    p = _study(tmp_path, STUDY.replace(old, new, 1))
    with pytest.raises(StudyError) as info:
        build_plan(load_checked_study(p))  # the engine's loading: design validation, then backend settings
    assert msg in str(info.value)
    if field:
        assert info.value.field == field and info.value.line == line, str(info.value)


def test_design_alone_does_not_know_the_backends_and_the_engine_checks_a_loaded_study(tmp_path):
    from psychometrika.engine import run_study

    p = _study(tmp_path, STUDY.replace("{id: m1, backend: dummy}", "{id: m1, backend: dummy, settings: {delay: 1}}"))
    study = load_study(p)  # the design stage validates the design, not the backends' settings
    with pytest.raises(StudyError, match="unknown setting") as info:
        run_study(study, tmp_path / "run", progress=False)
    assert info.value.field == "models[0].settings" and info.value.file == str(p)
    assert not (tmp_path / "run").exists()


def test_persona_file(tmp_path):
    (tmp_path / "personas.yaml").write_text('- {id: p1, text: "You are calm."}\n- {id: p2, text: "You are shy."}\n')
    text = STUDY.replace('  items:\n    - {id: warm, text: "You are warm."}', "  file: personas.yaml")
    s = load_study(_study(tmp_path, text))
    assert [p.id for p in s.personas.items] == ["p1", "p2"]
    (tmp_path / "personas.yaml").write_text("- {id: p1}\n")
    with pytest.raises(StudyError, match="text"):
        load_study(_study(tmp_path, text))
