"""Issue 19, findings 1-3 and 8: a run folder holds exactly one study's answers, verifiably.

Real ``psychometrika run`` processes with the dummy backend: two concurrent writers (one is refused, no row lost
or duplicated), ``--force``/``export``/``report`` on a folder being written, a stale lock of a killed process,
an instrument edited between runs, seeded bit flips in shards (each detected, named, repaired by a resume),
rows of another study, SIGTERM, and speed-only settings changed between runs.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.errors import StoreError
from psychometrika.plan.plan import build_plan
from psychometrika.store.store import RunStore, read_run, verify_run

DATA = Path(__file__).resolve().parents[1] / "data"
ENV = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


def _study(folder: Path, delay: float = 0.0, instrument: Path | None = None, personas: int = 3,
           extra: str = "") -> Path:
    inst = instrument or DATA / "mini.yaml"
    items = ", ".join(f'{{id: p{i}, text: "You are person {i}."}}' for i in range(personas))
    p = folder / "study.yaml"
    p.write_text(f"id: integrity\ninstruments: [{inst}]\nmodels:\n  - {{id: m1, backend: dummy, settings: "
                 f"{{delay_s: {delay}}}}}\npersonas: {{include_none: true, items: [{items}]}}\n"
                 f"option_orders: [original, reversed]\n{extra}")
    return p


def _cli(*args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "psychometrika", *args], capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env=ENV)


def _popen(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "psychometrika", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd, env=ENV)


def _wait_for_lock(out: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    t = time.time()
    while time.time() - t < timeout:
        lock = out / ".lock"
        if lock.exists() and lock.stat().st_size > 0 and list((out / "shards").glob("part-*")):
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.05)
    raise AssertionError("the first run never started writing")


def test_two_concurrent_runs_one_refused_no_row_lost_or_duplicated(tmp_path):
    study = _study(tmp_path, delay=0.4)  # 40 prompts: about 16 s, while four other commands try the folder
    out = tmp_path / "run"
    n_plan = len(build_plan(pm.load_study(study)))
    first = _popen("run", str(study), "--out", str(out), "--no-progress", "--batch-size", "4", cwd=tmp_path)
    try:
        _wait_for_lock(out, first)
        second = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path)
        forced = _cli("run", str(study), "--out", str(out), "--no-progress", "--force", cwd=tmp_path)
        export = _cli("export", str(out), str(tmp_path / "x.csv"), cwd=tmp_path)
        report = _cli("report", str(out), "--out", str(tmp_path / "book"), "--no-check", cwd=tmp_path)
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    for res in (second, forced, export, report):
        assert res.returncode == 2, res.stderr
        assert "being written by" in res.stderr and f"PID {first.pid}" in res.stderr, res.stderr
        assert "Traceback" not in res.stderr
    assert not list(out.glob("replaced-*")) and not (tmp_path / "x.csv").exists()
    df = read_run(out)
    assert len(df) == n_plan and df["cell_key"].is_unique
    m = json.loads((out / "manifest.json").read_text())
    assert m["complete"] and m["stored_rows"] == n_plan
    assert sum(s["rows"] for s in m["shards"].values()) == n_plan
    assert (out / ".lock").read_text() == ""  # released: the record is cleared


def test_stale_lock_of_a_killed_run_is_taken_over_with_a_message(tmp_path):
    study = _study(tmp_path, delay=0.02)
    out = tmp_path / "run"
    proc = _popen("run", str(study), "--out", str(out), "--no-progress", "--batch-size", "4", cwd=tmp_path)
    _wait_for_lock(out, proc)
    proc.kill()
    proc.communicate()
    assert str(proc.pid) in (out / ".lock").read_text()  # the record survives kill -9, the flock does not
    res = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"taking over the lock left by" in res.stderr and f"PID {proc.pid}" in res.stderr
    assert len(read_run(out)) == len(build_plan(pm.load_study(study)))


def test_editing_an_instrument_between_runs_is_refused_naming_the_file(tmp_path):
    inst = tmp_path / "mine.yaml"
    shutil.copy(DATA / "mini.yaml", inst)
    study = _study(tmp_path, instrument=inst)
    out = tmp_path / "run"
    assert _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path).returncode == 0
    before = read_run(out)
    text = inst.read_text()
    assert "keyed: -1" in text or "keyed: 1" in text
    inst.write_text(text.replace("keyed: -1", "keyed: 1", 1) if "keyed: -1" in text else
                    text.replace("keyed: 1", "keyed: -1", 1))
    res = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert res.returncode == 2, res.stderr
    assert str(inst) in res.stderr and "was edited" in res.stderr and "--force" in res.stderr, res.stderr
    assert "another --out folder" in res.stderr
    pd.testing.assert_frame_equal(read_run(out), before)  # nothing mixed in
    res = _cli("run", str(study), "--out", str(out), "--no-progress", "--force", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    after = read_run(out)
    assert len(after) == len(before) and after["study_hash"].nunique() == 1
    assert after["study_hash"].iloc[0] != before["study_hash"].iloc[0]


def test_request_identity_changes_with_instrument_content(tmp_path):
    inst = tmp_path / "mine.yaml"
    shutil.copy(DATA / "mini.yaml", inst)
    study = pm.load_study(_study(tmp_path, instrument=inst))
    h1 = pm.design.study_hash(study)
    inst.write_text(inst.read_text() + "\n# an edit that changes the bytes\n")
    assert pm.design.study_hash(pm.load_study(tmp_path / "study.yaml")) != h1
    from psychometrika.engine.keys import request_key

    args = ("w", "dummy", "score", {}, 0, [{"role": "user", "content": "q"}], ["1", "2"])
    assert request_key(*args, instrument_sha256="a" * 64) != request_key(*args, instrument_sha256="b" * 64)


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("finished")
    study = _study(tmp)
    out = tmp / "run"
    res = _cli("run", str(study), "--out", str(out), "--no-progress", "--batch-size", "8", cwd=tmp)
    assert res.returncode == 0, res.stderr
    return study, out, read_run(out)


def test_seeded_bit_flips_are_all_detected_named_and_repaired_by_resume(tmp_path, finished_run):
    study, pristine, table = finished_run
    rng = random.Random(19)
    for trial in range(12):
        out = tmp_path / f"run{trial}"
        shutil.copytree(pristine, out)
        shard = rng.choice(sorted((out / "shards").glob("part-*.parquet")))
        data = bytearray(shard.read_bytes())
        pos = rng.randrange(len(data))
        data[pos] ^= 1 << rng.randrange(8)
        shard.write_bytes(bytes(data))
        with pytest.raises(StoreError) as info:
            read_run(out)
        assert shard.name in str(info.value) and "damaged" in str(info.value) or "not a readable" in str(info.value)
        assert "re-run the same `psychometrika run` command" in str(info.value)
        bad = [c for c in verify_run(out) if not c.ok]
        assert [c.name for c in bad] == [shard.name]
        if trial < 3:  # the CLI: verify names it (exit 2), a resume moves it aside and asks only its rows again
            v = _cli("verify", str(out), cwd=tmp_path)
            assert v.returncode == 2 and f"DAMAGED  {shard.name}" in v.stdout, v.stdout + v.stderr
            res = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path)
            assert res.returncode == 0, res.stderr
            assert shard.name in res.stderr and "asked again" in res.stderr
            n_rows = pd.read_parquet(pristine / "shards" / shard.name).shape[0]
            assert f"{n_rows} new responses stored" in res.stdout, res.stdout
        else:
            pm.run_study(study, out, progress=False)
        assert list((out / "damaged").iterdir())
        repaired = read_run(out)
        pd.testing.assert_frame_equal(repaired.drop(columns="latency_s"), table.drop(columns="latency_s"))
        assert all(c.ok for c in verify_run(out))


def test_shard_recorded_but_missing_is_reported_and_re_asked(tmp_path, finished_run):
    study, pristine, table = finished_run
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    gone = sorted((out / "shards").glob("part-*"))[0]
    gone.unlink()
    with pytest.raises(StoreError, match="missing from shards"):
        read_run(out)
    pm.run_study(study, out, progress=False)
    assert len(read_run(out)) == len(table)


def test_read_run_keeps_only_the_folders_study_and_says_so(tmp_path, finished_run):
    _, pristine, table = finished_run
    out = tmp_path / "run"
    shutil.copytree(pristine, out)
    m = json.loads((out / "manifest.json").read_text())
    store = RunStore.open(out, m["study_hash"])
    foreign = table.head(3).assign(study_hash="0" * 64, cell_key=lambda d: d["cell_key"] + "-other")
    assert store.append(foreign.to_dict("records")) == 3
    store.write_manifest(m)
    store.close()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = read_run(out)
    assert len(df) == len(table) and set(df["study_hash"]) == {m["study_hash"]}
    assert any("left out 3 row(s) of other studies" in str(w.message) for w in caught)


def test_a_folder_without_answers_is_taken_over_by_the_corrected_study(tmp_path):
    out = tmp_path / "run"
    store = RunStore.open(out, "a-study-that-stored-nothing", study_text="id: old\n")
    store.write_manifest({"study_hash": "a-study-that-stored-nothing", "study_id": "old"})
    store.close()
    study = _study(tmp_path)
    pm.run_study(study, out, progress=False)
    assert (out / "study.yaml").read_text() == study.read_text()
    assert not list(out.glob("replaced-*"))


def test_sigterm_writes_the_manifest_and_says_how_to_resume(tmp_path):
    study = _study(tmp_path, delay=0.02)
    out = tmp_path / "run"
    proc = _popen("run", str(study), "--out", str(out), "--no-progress", "--batch-size", "4", cwd=tmp_path)
    _wait_for_lock(out, proc)
    time.sleep(0.3)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "re-run the same command to resume" in err
    m = json.loads((out / "manifest.json").read_text())
    stored = len(read_run(out))
    assert 0 < stored < m["planned_rows"] and m["stored_rows"] == stored and not m["complete"]
    assert (out / ".lock").read_text() == ""


def test_speed_only_settings_do_not_change_the_study(tmp_path):
    out = tmp_path / "run"
    pm.run_study(_study(tmp_path, delay=0.0), out, progress=False)
    study = _study(tmp_path, delay=0.001)
    res = _cli("run", str(study), "--out", str(out), "--no-progress", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "0 new responses stored" in res.stdout


def test_manifest_is_strict_json(tmp_path, finished_run):
    _, pristine, _ = finished_run

    def refuse(name: str) -> None:
        raise AssertionError(f"non-standard JSON constant {name}")

    json.loads((pristine / "manifest.json").read_text(), parse_constant=refuse)
    out = tmp_path / "run"
    store = RunStore.open(out, "h")
    store.write_manifest({"study_hash": "h", "x": float("inf"), "y": [float("nan")]})
    store.close()
    assert json.loads((out / "manifest.json").read_text(), parse_constant=refuse)["x"] is None


def test_report_out_naming_an_existing_file_is_a_located_error(tmp_path, finished_run):
    _, pristine, _ = finished_run
    target = tmp_path / "report.html"
    target.write_text("keep me")
    res = _cli("report", str(pristine), "--out", str(target), "--no-check", cwd=tmp_path)
    assert res.returncode == 2 and f"{target}: --out names an existing file" in res.stderr, res.stderr
    assert "Traceback" not in res.stderr and target.read_text() == "keep me"
