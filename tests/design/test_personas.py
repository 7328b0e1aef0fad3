"""Persona sources: files with attributes, generator, trait shaping, bank; attributes reach the response table."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pandas as pd
import pytest

from psychometrika.design.factors import expand_factors
from psychometrika.design.personas import (Generator, Personas, Shaping, bank_personas, generate_personas,
                                           level_words, resolve_personas, shaping_personas)
from psychometrika.design.study import load_study
from psychometrika.errors import StudyError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "engine"))
from fakes import FakeBackend  # noqa: E402

STUDY = """id: people
seed: 3
instruments: [{{id: bfi-44, items: [bfi01, bfi02]}}]
models: [{{id: m, backend: dummy}}]
personas:
{personas}
"""


def _write(tmp_path: Path, personas: str) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(STUDY.format(personas=personas), encoding="utf-8")
    return p


def test_csv_jsonl_yaml_files_carry_attributes(tmp_path):
    (tmp_path / "a.csv").write_text("id,text,age,country\np1,You are Ana.,34,Chile\np2,You are Bo.,,Ghana\n")
    (tmp_path / "b.jsonl").write_text('{"id": "p3", "text": "You are Cy.", "age": 51, "smoker": true}\n')
    (tmp_path / "c.yaml").write_text("- {id: p4, text: You are Di., occupation: nurse}\n"
                                     "- {id: p5, text: You are Ed., attributes: {age: 20}}\n")
    study = load_study(_write(tmp_path, "  include_none: false\n  file: [a.csv, b.jsonl, c.yaml]"))
    ps = {p.id: p.attributes for p in study.personas.items}
    assert ps == {"p1": {"age": 34, "country": "Chile"}, "p2": {"age": None, "country": "Ghana"},
                  "p3": {"age": 51, "smoker": True}, "p4": {"occupation": "nurse"}, "p5": {"age": 20}}
    assert study.personas.file is None  # materialised: the study hash covers the personas themselves


def test_bad_persona_file_is_located(tmp_path):
    (tmp_path / "a.csv").write_text("id,text\np1,You are Ana.\np 2,You are Bo.\n")
    with pytest.raises(StudyError) as exc:
        load_study(_write(tmp_path, "  file: a.csv"))
    assert "a.csv:3" in str(exc.value) and "id" in str(exc.value)
    (tmp_path / "b.jsonl").write_text('{"id": "p1", "text": "x"}\n{"id": "p2", \n')
    with pytest.raises(StudyError, match=r"b\.jsonl:2"):
        load_study(_write(tmp_path, "  file: b.jsonl"))


def test_generator_factorial_sample_weights_and_dedup():
    gen = Generator(template="You are {name}, {job|a}.", attributes={
        "name": ["Ana", "Bo"], "job": ["engineer", "nurse", "engineer"]})
    full = generate_personas(gen)
    assert [p.text for p in full] == ["You are Ana, an engineer.", "You are Ana, a nurse.",
                                      "You are Bo, an engineer.", "You are Bo, a nurse."]  # duplicate dropped
    assert full[1].attributes == {"name": "Ana", "job": "nurse"} and full[0].id == "gen-1"
    big = Generator(template="{a}{b}{c}", attributes={"a": list(range(10)), "b": list(range(30)),
                                                      "c": list(range(30))}, sample=300, seed=5,
                    weights={"a": [10] + [1] * 9})
    one, two = generate_personas(big), generate_personas(big)
    assert [p.text for p in one] == [p.text for p in two] and len({p.text for p in one}) == 300
    other = generate_personas(big.model_copy(update={"seed": 6}))
    assert [p.text for p in other] != [p.text for p in one]
    share = sum(p.attributes["a"] == 0 for p in one) / 300
    assert 0.35 < share < 0.65  # weight 10/19 = 0.53 before de-duplication
    with pytest.raises(StudyError, match="cannot draw 9"):
        generate_personas(Generator(template="{a}", attributes={"a": [1, 2, 3, 4, 5, 6, 7, 8]}, sample=9))
    with pytest.raises(StudyError, match=r"placeholder \{zz\}"):
        generate_personas(Generator(template="{zz}", attributes={"a": [1]}))


def test_levels_and_single_trait_shaping():
    assert [level_words(i, 9)[1] for i in range(1, 10)] == ["extremely", "very", "", "a bit", "", "a bit", "",
                                                           "very", "extremely"]
    assert [level_words(i, 2) for i in (1, 2)] == [("low", "extremely"), ("high", "extremely")]
    ps = shaping_personas(Shaping(traits=["E", "agreeableness"], levels=9))
    assert len(ps) == 18 and ps[0].id == "shape-E1" and ps[-1].id == "shape-A9"
    assert "I am extremely quiet, extremely reserved" in ps[0].text
    assert "a bit talkative" in ps[5].text and "neither quiet nor talkative" in ps[4].text
    assert ps[6].attributes == {"shaping_design": "single", "shaped_trait": "extraversion", "target_extraversion": 7}
    assert "talkative" not in ps[9].text  # single-trait: other traits unmentioned


def test_concurrent_shaping_32_profiles_and_sample():
    ps = shaping_personas(Shaping(traits="all", levels=2, design="concurrent"))
    assert len(ps) == 32 and len({p.text for p in ps}) == 32
    assert ps[0].id == "shape-E1A1C1N1O1" and ps[-1].attributes["target_openness"] == 2
    assert all(set(p.attributes) == {"shaping_design", "target_extraversion", "target_agreeableness",
                                     "target_conscientiousness", "target_neuroticism", "target_openness"}
               for p in ps)
    s1 = shaping_personas(Shaping(traits="all", levels=9, design="concurrent", sample=50, seed=2))
    s2 = shaping_personas(Shaping(traits="all", levels=9, design="concurrent", sample=50, seed=2))
    assert [p.id for p in s1] == [p.id for p in s2] and len({p.id for p in s1}) == 50
    assert len(shaping_personas(Shaping(traits="all", levels=9, design="concurrent"))) == 9 ** 5
    huge = Generator(template="{a}{b}{c}", attributes={k: list(range(101)) for k in "abc"})
    with pytest.raises(StudyError, match="1,030,301 personas"):
        generate_personas(huge)


def test_bank_core_is_large_diverse_and_sampled_reproducibly():
    bank = bank_personas("core")
    assert len(bank) >= 500 and len({p.text for p in bank}) == len(bank)
    assert len({p.attributes["country"] for p in bank}) >= 25 and len({p.attributes["occupation"] for p in bank}) >= 35
    assert {p.attributes["gender"] for p in bank} == {"female", "male", "nonbinary"}
    a = resolve_personas(Personas(bank="core", sample=200, seed=1))
    b = resolve_personas(Personas(bank="core", sample=200, seed=1))
    c = resolve_personas(Personas(bank="core", sample=200, seed=2))
    assert [p.id for p in a] == [p.id for p in b] != [p.id for p in c] and len(a) == 200
    with pytest.raises(StudyError, match="no persona bank 'nope'"):
        resolve_personas(Personas(bank="nope"))


def test_duplicate_ids_across_sources_are_refused(tmp_path):
    block = Personas(items=[{"id": "shape-E1", "text": "x"}], shaping=Shaping(traits=["E"], levels=3))
    with pytest.raises(StudyError, match="duplicate persona id"):
        resolve_personas(block)
    with pytest.raises(StudyError) as exc:
        load_study(_write(tmp_path, "  bank: core\n  sample: 100000"))
    assert "study.yaml" in str(exc.value) and "cannot sample 100000" in str(exc.value)


def test_attributes_survive_store_read_and_export(tmp_path):
    from psychometrika.engine import run_study
    from psychometrika.store.store import export_run, read_run

    (tmp_path / "a.csv").write_text("id,text,age,country\np1,You are Ana.,34,Chile\n")
    path = _write(tmp_path, "  include_none: true\n  file: a.csv\n  shaping: {traits: [E], levels: 3}")
    study = load_study(path)
    assert [p.id for p in expand_factors(study).personas] == ["none", "p1", "shape-E1", "shape-E2", "shape-E3"]
    run_study(path, tmp_path / "run", backend_factory=lambda spec: FakeBackend(), progress=False)
    df = read_run(tmp_path / "run")
    assert len(df) == 2 * 5
    row = df[df.persona == "p1"].iloc[0]
    assert row["persona_age"] == 34 and row["persona_country"] == "Chile"
    assert df.loc[df.persona == "shape-E3", "persona_target_extraversion"].eq(3).all()
    assert df.loc[df.persona == "none", "persona_age"].isna().all()
    table = json.loads((tmp_path / "run" / "personas.json").read_text())
    assert table[0]["persona"] == "p1" and table[0]["persona_text"] == "You are Ana."
    for fmt in ("csv", "parquet"):
        out = export_run(tmp_path / "run", tmp_path / f"out.{fmt}")
        back = pd.read_csv(out) if fmt == "csv" else pd.read_parquet(out)
        assert back.loc[back.persona == "p1", "persona_country"].eq("Chile").all()
        assert back.loc[back.persona == "shape-E1", "persona_target_extraversion"].eq(1).all()


def test_bad_persona_blocks_name_study_file_and_field(tmp_path):
    cases = [("  shaping: {traits: [charisma], levels: 9}", "personas.shaping.traits: no trait 'charisma'"),
             ('  generate: {template: "{x} {y}", attributes: {x: [1, 2]}}',
              "personas.generate.template: placeholder {y} names no attribute"),
             ("  sample: 3", "personas.sample: sample draws from a bank")]
    for block, want in cases:
        with pytest.raises(StudyError) as exc:
            load_study(_write(tmp_path, block))
        assert str(exc.value).startswith(f"{tmp_path / 'study.yaml'}: ") and want in str(exc.value), str(exc.value)
