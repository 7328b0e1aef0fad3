"""The instrument loader: every shipped file loads; broken files are rejected with file, line, field and hint."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import psychometrika as pm
from psychometrika.errors import InstrumentError
from psychometrika.instruments import builtin_dir, json_schema, list_instruments, load_instrument_file

MINI = Path(__file__).resolve().parent.parent / "data" / "mini.yaml"
SHIPPED = sorted(builtin_dir().glob("*.yaml"))


def test_builtin_folder_has_the_instrument_families():
    ids = {p.stem for p in SHIPPED}
    assert len(SHIPPED) >= 6, ids


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_file_loads_and_states_licence(path: Path):
    inst = load_instrument_file(path)
    assert inst.id == path.stem or path.stem in inst.aliases or inst.id.startswith(path.stem.split("-")[0])
    assert inst.licence.redistribution.strip()
    assert inst.citations[0].text.strip()
    assert len(inst.instructions) >= 2, "each instrument ships 2-3 instruction paraphrases"
    text = path.read_text(encoding="utf-8")
    assert text.lstrip().startswith("#"), "the file starts with a comment naming source and licence"
    if inst.licence.research_use_only:
        assert "research" in inst.licence.redistribution.lower()


def test_catalogue_lists_builtins_with_origin():
    cat = {inst.id: src for inst, src in list_instruments()}
    assert {"bfi-44", "sd3", "ipip-16pf"} <= set(cat)
    assert all(src.origin == "builtin" for src in cat.values())


def test_load_by_id_and_alias():
    assert pm.load_instrument("bfi-44").id == "bfi-44"
    with pytest.warns(UserWarning, match="IPIP"):
        assert pm.load_instrument("16pf").id == "ipip-16pf"
    with pytest.raises(InstrumentError, match="no instrument with id 'bfi-4x'"):
        pm.load_instrument("bfi-4x")


def _write(tmp_path: Path, text: str, name: str = "x.yaml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _mutate(old: str, new: str) -> str:
    text = MINI.read_text(encoding="utf-8")
    assert old in text, old
    return text.replace(old, new, 1)


# (mutation, expected line, expected field fragment, expected message fragment)
BROKEN = [
    ("syntax", ("  type: likert", "  type: likert\n   foo: ["), 14, None, "YAML error"),
    ("wrong type", ('version: "1.0"', "version: [1, 0]"), 4, "version", "valid string"),
    ("unknown key", ("family: test", "famly: test"), 5, "famly", "Extra inputs"),
    ("duplicate item id", ("id: a2,", "id: a1,"), 21, "items[4]", "duplicate item id 'a1'"),
    ("duplicate key", ("family: test", "family: test\nfamily: again"), 6, None, "duplicate key 'family'"),
    ("item in no scale", ("scale: A, keyed: -1}", "keyed: -1}"), 21, "items[4]", "belong to no scale"),
    ("scale with unknown item", ("- {id: A, name: Agreeableness}", "- {id: A, name: Agreeableness, items: [a1, zz]}"),
     24, "scales[1]", "unknown item 'zz'"),
    ("unknown scale", ("scale: A, keyed", "scale: Q, keyed"), 21, "items[4]", "unknown scale 'Q'"),
    ("option/label count mismatch", ("values: [1, 2, 3, 4, 5]", "values: [1, 2, 3, 4]"), 13, "response_format",
     "4 values but 5 labels"),
    ("empty instructions", ("instructions:\n  - {id: i1, text: \"How well does each statement describe you?\"}\n"
                            "  - {id: i2, text: \"Rate how accurately each statement describes you.\"}",
                            "instructions: []"), 8, "instructions", "at least 1"),
    ("empty stem paraphrases", ('paraphrases: [{id: p1, text: "liven up any party"}]', "paraphrases: []"), 17,
     "items[0].paraphrases", "paraphrases is empty"),
    ("python tag", ('version: "1.0"', 'version: !!python/object/apply:os.system ["echo hi"]'), 4, None,
     "YAML tags are not allowed"),
    ("bad id", ("id: mini", "id: ../../etc"), 2, "id", "should match pattern"),
    ("stem placeholder", ('stem: "I {text}."', 'stem: "I am."'), 11, "stem", "{text}"),
    ("missing field", ("name: Mini test scale\n", ""), 2, "name", "Field required"),
    ("bad format type", ("type: likert", "type: likrt"), 13, "response_format", "does not match any of the expected"),
]


@pytest.mark.parametrize("case", BROKEN, ids=[c[0] for c in BROKEN])
def test_broken_files_are_rejected_with_location(tmp_path, case):
    _, (old, new), line, field, msg = case
    p = _write(tmp_path, _mutate(old, new))
    with pytest.raises(InstrumentError) as info:
        load_instrument_file(p)
    err = info.value
    assert err.file == str(p)
    assert msg in err.message, err.message
    if line is not None:
        assert err.line == line, str(err)
    if field is not None:
        assert err.field is not None and field in err.field, str(err)
    assert str(p) in str(err)


def test_reverse_key_on_non_likert_item_is_rejected(tmp_path):
    text = MINI.read_text().replace("scale: A, keyed: -1}", "scale: A, keyed: -1, response_format: {type: numeric, "
                                                            "min: 0, max: 10}}")
    with pytest.raises(InstrumentError, match="reverse keyed .* Likert items only") as info:
        load_instrument_file(_write(tmp_path, text))
    assert info.value.line == 21 and info.value.field == "items[4]"


def test_non_utf8_bytes(tmp_path):
    p = tmp_path / "latin1.yaml"
    p.write_bytes(MINI.read_bytes().replace(b"Mini test scale", b"Mini t\xe9st scale"))
    with pytest.raises(InstrumentError, match="not valid UTF-8") as info:
        load_instrument_file(p)
    assert info.value.line == 3 and info.value.column == 13


def test_huge_file_is_refused_quickly(tmp_path):
    p = tmp_path / "huge.yaml"
    p.write_bytes(b"# " + b"x" * (10 * 1024 * 1024) + b"\n")
    with pytest.raises(InstrumentError, match="limit is 5 MB"):
        load_instrument_file(p)


@pytest.mark.parametrize("text,msg", [("", "got empty"), ("- a\n- b\n", "got list"), ("just text", "got str")])
def test_not_a_mapping(tmp_path, text, msg):
    with pytest.raises(InstrumentError, match=msg):
        load_instrument_file(_write(tmp_path, text))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(InstrumentError, match="file not found"):
        load_instrument_file(tmp_path / "nope.yaml")
    with pytest.raises(InstrumentError, match="is a folder"):
        load_instrument_file(tmp_path)


def test_instrument_error_is_a_value_error():
    assert issubclass(InstrumentError, ValueError)


def test_json_schema_describes_the_format():
    schema = json_schema()
    assert schema["title"] == "psychometrika instrument"
    assert {"id", "name", "version", "citation", "licence", "instructions", "response_format", "items", "scales"} \
        <= set(schema["properties"])
    assert set(schema["required"]) >= {"id", "citation", "licence", "items", "scales"}


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psychometrika", *args], capture_output=True, text=True, timeout=120)


def test_cli_validate_list_show_schema(tmp_path):
    bad = _write(tmp_path, _mutate("family: test", "famly: test"), "bad.yaml")
    res = _cli("instruments", "validate", str(MINI), str(bad))
    assert res.returncode == 2
    assert "✓" in res.stdout and "mini" in res.stdout
    assert f"{bad}:5:1: famly: Extra inputs are not permitted" in res.stderr
    assert "Traceback" not in res.stderr
    res = _cli("instruments", "list")
    assert res.returncode == 0 and "bfi-44" in res.stdout and "research" in res.stdout
    res = _cli("instruments", "show", "sd3")
    assert res.returncode == 0 and "research use only" in res.stdout
    res = _cli("instruments", "schema")
    assert res.returncode == 0 and json.loads(res.stdout)["title"] == "psychometrika instrument"
    res = _cli("instruments", "show", str(_write(tmp_path, "a: !!python/object:os.system x", "t.yaml")))
    assert res.returncode == 2 and "YAML tags are not allowed" in res.stderr and "Traceback" not in res.stderr
    res = _cli("--debug", "instruments", "show", "no-such-instrument")
    assert res.returncode != 0 and "Traceback" in res.stderr
