"""The engine: plan -> backend -> store, resumable, exactly once, failures never stored."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakes import FakeBackend  # noqa: E402

import psychometrika as pm  # noqa: E402
from psychometrika.engine import run_study  # noqa: E402
from psychometrika.errors import BackendError, StoreError  # noqa: E402
from psychometrika.store import RunStore  # noqa: E402

DATA = Path(__file__).resolve().parent.parent / "data"
STUDY = f"""\
id: pipe
instruments: [{DATA / 'mini.yaml'}, {DATA / 'mini-sjt.yaml'}]
models: [{{id: fake, backend: dummy}}]
personas: {{include_none: true, items: [{{id: warm, text: "You are warm."}}]}}
paraphrases: {{instructions: all}}
option_orders: [original, reversed]
"""


@pytest.fixture
def study(tmp_path) -> Path:
    p = tmp_path / "study.yaml"
    p.write_text(STUDY)
    return p


def _run(study, out, fake=None, **kw):
    return run_study(study, out, backend_factory=lambda spec: FakeBackend(**(fake or {})), progress=False, **kw)


def test_run_writes_every_row_once_with_manifest(study, tmp_path):
    out = tmp_path / "run"
    rep = _run(study, out, batch_size=7)
    assert rep.complete and rep.written == rep.planned == (5 * 2 * 2 * 2 + 2 * 2 * 1 * 2)
    df = pm.read_run(out)
    assert len(df) == rep.planned and df["cell_key"].is_unique
    assert set(df["status"]) == {"ok"}
    for col in ("study_hash", "instrument_version", "instrument_sha256", "prompt_hash", "weights_sha256", "backend",
                "decoding", "seed", "permutation", "probs", "chosen_option", "chosen_value", "expected_value",
                "n_prompt_tokens", "latency_s", "prompt"):
        assert col in df, col
    assert all(abs(sum(p) - 1) < 1e-9 for p in df["probs"])
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] and m["stored_rows"] == rep.planned and m["models"]["fake"]["weights_sha256"] == "f" * 64
    assert {i["id"] for i in m["instruments"]} == {"mini", "mini-sjt"}
    assert (out / "study.yaml").read_text() == STUDY
    # a second run has nothing to do
    rep2 = _run(study, out)
    assert rep2.written == 0 and rep2.already_done == rep.planned


def test_resume_after_partial_run_equals_uninterrupted(study, tmp_path):
    full = tmp_path / "full"
    _run(study, full)
    part = tmp_path / "part"
    rep = _run(study, part, batch_size=5, max_rows=10)
    assert 0 < rep.written < rep.planned and not rep.complete
    _run(study, part, batch_size=5)
    a, b = pm.read_run(full), pm.read_run(part)
    cols = [c for c in a.columns if c not in {"latency_s"}]
    pd.testing.assert_frame_equal(a[cols], b[cols])


def test_failures_are_not_stored_and_retried(study, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(BackendError, match="failed and were not stored"):
        _run(study, out, fake={"fail_every": 3})
    df = pm.read_run(out)
    planned = 5 * 2 * 2 * 2 + 2 * 2 * 1 * 2
    assert 0 < len(df) < planned
    rep = _run(study, out)  # healthy backend: the failed ones are administered now
    assert rep.written == planned - len(df) and len(pm.read_run(out)) == planned


def test_other_study_is_refused_unless_forced(study, tmp_path):
    out = tmp_path / "run"
    _run(study, out)
    other = tmp_path / "other.yaml"
    other.write_text(STUDY.replace("id: pipe", "id: other"))
    with pytest.raises(StoreError, match="another study"):
        _run(other, out)
    _run(other, out, force=True)
    assert len(list(out.glob("replaced-*"))) == 1
    assert pm.read_manifest(out)["study_id"] == "other"


def test_store_never_duplicates_and_reader_dedups(tmp_path):
    store = RunStore.open(tmp_path / "s", "h")
    assert store.append([{"cell_key": "a", "x": 1}, {"cell_key": "a", "x": 2}, {"cell_key": "b", "x": 3}]) == 2
    assert store.append([{"cell_key": "b", "x": 9}, {"cell_key": "c", "x": 4}]) == 1
    # a shard copied in by hand (e.g. a retried worker) cannot create duplicates on read
    f = store.shard_files()[0]
    shutil.copy(f, f.with_name("part-999999-copy.parquet"))
    df = RunStore(tmp_path / "s").read()
    assert sorted(df["cell_key"]) == ["a", "b", "c"] and df.set_index("cell_key").loc["a", "x"] == 1


def test_stale_temp_files_are_removed(tmp_path):
    store = RunStore.open(tmp_path / "s", "h")
    (store.shards / ".tmp-abc").write_bytes(b"half a parquet file")
    store.close()  # one writer at a time: the folder's lock is released first
    RunStore.open(tmp_path / "s", "h").close()
    assert not list(store.shards.glob(".tmp-*"))


def test_exports(study, tmp_path):
    out = tmp_path / "run"
    _run(study, out)
    csv = pm.export_run(out, tmp_path / "r.csv")
    back = pd.read_csv(csv)
    assert len(back) == len(pm.read_run(out)) and json.loads(back["probs"][0])
    pq = pm.export_run(out, tmp_path / "r.parquet")
    assert len(pd.read_parquet(pq)) == len(back)
    pytest.importorskip("pyreadstat")
    sav = pm.export_run(out, tmp_path / "r.sav")
    import pyreadstat

    sdf, meta = pyreadstat.read_sav(str(sav))
    assert len(sdf) == len(back) and "expected_value" in sdf


def test_scale_scores_from_a_run(study, tmp_path):
    out = tmp_path / "run"
    _run(study, out)
    df = pm.read_run(out)
    insts = [pm.load_instrument(DATA / "mini.yaml"), pm.load_instrument(DATA / "mini-sjt.yaml")]
    s = pm.scale_scores(df, insts)
    assert set(s["scale"]) == {"E", "A", "M"}
    assert s["score"].notna().all()
    # 2 personas x 2 instructions x 2 orders for mini; the SJT has 1 instruction
    assert len(s[s.instrument == "mini"]) == 2 * 2 * 2 * 2
