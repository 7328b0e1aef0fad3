"""The Ray executor on a local two-CPU Ray cluster: same table as one process, exactly once under kills.

One Ray instance serves the whole module (starting Ray takes seconds). The dummy backend is deterministic
(its answers are a hash of the prompt), so any lost, duplicated or altered row shows up as a difference
from the single-process table.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.design.study import load_study
from psychometrika.engine.batch import batches, prefix_sort
from psychometrika.engine.run import run_study
from psychometrika.plan.plan import build_plan
from psychometrika.errors import BackendError

ray = pytest.importorskip("ray")
from psychometrika.engine.ray_executor import Shard, _pick, plan_shards, run_study_ray  # noqa: E402

BATCH = 4


def _same_table(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(got) == len(expected) and got["cell_key"].is_unique
    cols = [c for c in expected.columns if c != "latency_s"]
    pd.testing.assert_frame_equal(got[cols], expected[cols])


@pytest.fixture(scope="module")
def cluster():
    """A local Ray cluster with two CPUs (two workers), shared by every test of this module."""
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        ray.shutdown()


@pytest.fixture(scope="module")
def dummy(tmp_path_factory, mini_study):
    """A dummy-backend study (8 ms per request) and its single-process reference table."""
    folder = tmp_path_factory.mktemp("scaleout")
    study = mini_study(folder, "scaleout", "{id: sim, backend: dummy, settings: {delay_s: 0.008, position_bias: 1.0}}",
                   personas=3)
    run_study(study, folder / "reference", progress=False, batch_size=BATCH)
    return study, pm.read_run(folder / "reference")


# ------------------------------------------------------------------------------------------ no Ray needed
def test_shards_are_the_single_process_batches_in_prefix_order(dummy):
    study_path, expected = dummy
    study = load_study(study_path)
    plan = build_plan(study)
    shards = plan_shards(plan, [m.id for m in study.models], BATCH)
    ordered = prefix_sort(plan)
    assert [len(s) for s in shards] == [len(b) for b in batches(ordered, BATCH)]
    assert np.concatenate([s.rows["cell_key"].to_numpy() for s in shards]).tolist() == ordered["cell_key"].tolist()
    # a prefix group (persona + instructions + scale) is one contiguous run of shards, never split apart
    prefixes = [s.prefix for s in shards]
    runs = [p for i, p in enumerate(prefixes) if i == 0 or p != prefixes[i - 1]]
    assert len(runs) == len(set(runs)) >= 4
    # 4 personas x 2 orders x (5 mini items x 2 instructions + 2 SJT items x 1 instruction)
    assert len(plan) == len(expected) == 4 * 2 * (5 * 2 + 2)


def test_pick_keeps_a_worker_on_its_prefix_then_takes_an_unclaimed_one():
    rows = pd.DataFrame({"cell_key": ["x"]})
    shards = [Shard(i, "m", p, rows) for i, p in enumerate(["a", "a", "b", "b", "c"])]

    class W:
        last_prefix: str | None = None

    w = W()
    pending = deque(range(5))
    w.last_prefix = "b"
    assert _pick(pending, shards, w, active_prefixes={"a", "b"}) == 2    # same prefix as its last shard
    w.last_prefix = "z"
    assert _pick(pending, shards, w, active_prefixes={"a", "b"}) == 4    # a prefix no other worker is on
    assert _pick(pending, shards, w, active_prefixes={"a", "b"}) == 0    # otherwise the oldest
    assert list(pending) == [1, 3]


# ------------------------------------------------------------------------------------------ local cluster
def test_two_workers_give_the_single_process_table_row_for_row(cluster, dummy, tmp_path):
    study, expected = dummy
    rep = run_study_ray(study, tmp_path / "run", address=cluster, workers=2, batch_size=BATCH, progress=False)
    assert rep.complete and rep.written == len(expected) and rep.workers == 2 and rep.failed == 0
    assert all(w["items"] > 0 for w in rep.per_worker), rep.per_worker      # both workers took shards
    assert len({w["pid"] for w in rep.per_worker}) == 2
    _same_table(pm.read_run(tmp_path / "run"), expected)
    manifest = pm.read_manifest(tmp_path / "run")
    assert manifest["executor"]["kind"] == "ray" and manifest["executor"]["workers"] == 2
    assert manifest["complete"] and manifest["stored_rows"] == len(expected)
    assert manifest["models"]["sim"]["weights_sha256"] == expected["weights_sha256"].iloc[0]
    # a second run finds everything done and starts no worker
    again = run_study_ray(study, tmp_path / "run", address=cluster, workers=2, batch_size=BATCH, progress=False)
    assert again.written == 0 and again.already_done == len(expected) and again.workers == 0


def test_the_same_study_file_runs_on_ray_with_executor_ray_or_the_cli_flag(cluster, dummy, tmp_path, capsys):
    from psychometrika.cli import main

    study, expected = dummy
    on_ray = tmp_path / "ray.yaml"
    on_ray.write_text(study.read_text() + "executor: ray\n")
    rep = run_study(on_ray, tmp_path / "by-file", progress=False, batch_size=BATCH, ray_address=cluster, workers=2)
    assert rep.workers == 2 and rep.complete
    _same_table(pm.read_run(tmp_path / "by-file"), expected)
    with pytest.raises(SystemExit) as exc:  # the unchanged study file, sent to Ray from the command line
        main(["run", str(study), "--out", str(tmp_path / "by-cli"), "--ray", cluster, "--workers", "2",
              "--batch-size", str(BATCH), "--no-progress"])
    assert exc.value.code == 0, capsys.readouterr()
    _same_table(pm.read_run(tmp_path / "by-cli"), expected)
    assert pm.read_manifest(tmp_path / "by-cli")["executor"]["kind"] == "ray"


def test_single_process_run_resumes_a_ray_run_and_vice_versa(cluster, dummy, tmp_path):
    study, expected = dummy
    out = tmp_path / "mixed"
    run_study(study, out, progress=False, batch_size=BATCH, max_rows=40)
    first = len(pm.read_run(out))
    rep = run_study_ray(study, out, address=cluster, workers=2, batch_size=BATCH, progress=False)
    assert rep.already_done == first and rep.written == len(expected) - first
    _same_table(pm.read_run(out), expected)


@pytest.mark.parametrize("how", ["ray.kill", "SIGKILL"])
def test_a_worker_killed_mid_run_loses_and_duplicates_nothing(cluster, dummy, tmp_path, how):
    study, expected = dummy
    killed: list[int] = []

    def kill_other_worker(event):
        if killed or event["finished"] < 3:
            return
        idx, pid, actor = next(w for w in event["workers"] if w[0] != event["worker"])
        if how == "ray.kill":
            ray.kill(actor, no_restart=False)   # Ray restarts the actor (its backend is rebuilt)
        else:
            os.kill(pid, signal.SIGKILL)        # the worker process crashes
        killed.append(idx)

    rep = run_study_ray(study, tmp_path / "run", address=cluster, workers=2, batch_size=BATCH, progress=False,
                        speculate=False, on_shard=kill_other_worker)
    assert killed, "no worker was killed"
    dead = rep.per_worker[killed[0]]
    assert dead["deaths"] >= 1 and rep.retried >= 1          # its shards in flight were lost and run again
    assert rep.complete and rep.written == len(expected) and rep.failed == 0
    _same_table(pm.read_run(tmp_path / "run"), expected)


def test_speculative_copies_are_dropped_at_write_time(cluster, dummy, tmp_path):
    """Backup copies of the last shards run on idle workers; the store keeps each cell_key once."""
    study, expected = dummy
    rep = run_study_ray(study, tmp_path / "run", address=cluster, workers=2, batch_size=BATCH, progress=False,
                        speculate=True)
    assert rep.speculative >= 1
    done_twice = sum(w["items"] for w in rep.per_worker) - len(expected)
    assert rep.duplicates_dropped == done_twice > 0
    files = sorted((tmp_path / "run" / "shards").glob("part-*.parquet"))
    keys = pd.concat([pd.read_parquet(f, columns=["cell_key"]) for f in files])["cell_key"]
    assert keys.is_unique and len(keys) == len(expected)      # no duplicate was ever written, not just hidden
    _same_table(pm.read_run(tmp_path / "run"), expected)


def test_backend_failures_are_never_stored_and_a_rerun_completes(cluster, tmp_path, mini_study):
    study = mini_study(tmp_path, "flaky", "{id: sim, backend: dummy, settings: {fail_every: 5}}", personas=1)
    out = tmp_path / "run"
    # the failures are named by reason, as in the single-process engine
    with pytest.raises(BackendError, match=r"failed and were not stored.*\d+ × "):
        run_study_ray(study, out, address=cluster, workers=2, batch_size=BATCH, progress=False, speculate=False)
    partial = pm.read_run(out)
    planned = 2 * 2 * (5 * 2 + 2)
    assert 0 < len(partial) < planned and (partial["status"] == "ok").all()
    for _ in range(12):   # each run fails every 5th of its requests, so a few re-runs fill the gaps
        try:
            run_study_ray(study, out, address=cluster, workers=2, batch_size=BATCH, progress=False, speculate=False)
            break
        except BackendError:
            continue
    ref = tmp_path / "ref"
    for _ in range(12):
        try:
            run_study(study, ref, progress=False, batch_size=BATCH)
            break
        except BackendError:
            continue
    _same_table(pm.read_run(out), pm.read_run(ref))


def _driver_cmd(study: Path, out: Path, address: str) -> list[str]:
    return [sys.executable, "-m", "psychometrika.engine.ray_executor", str(study), "--out", str(out), "--address",
            address, "--workers", "2", "--batch-size", str(BATCH), "--write-rows", str(BATCH), "--no-progress"]


def _shards(out: Path) -> int:
    return len(list((out / "shards").glob("part-*.parquet"))) if (out / "shards").exists() else 0


def test_driver_killed_with_sigkill_then_restarted_resumes(cluster, dummy, tmp_path):
    study, expected = dummy
    out = tmp_path / "run"
    cmd = _driver_cmd(study, out, cluster)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
    t0 = time.time()
    try:
        while _shards(out) < 4:
            assert proc.poll() is None, f"the driver ended before it could be killed: {proc.stderr.read()!r}"
            assert time.time() - t0 < 120, "the driver made no progress"
            time.sleep(0.005)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    stored = len(pm.read_run(out))
    assert 0 < stored < len(expected)
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert f"{stored} already there" in res.stdout and f"{len(expected) - stored} new responses" in res.stdout
    _same_table(pm.read_run(out), expected)


# ------------------------------------------------------------------------------------------ real model
@pytest.mark.slow
def test_embedded_model_on_two_workers_matches_single_process(cluster, tmp_path):
    pytest.importorskip("torch")
    study = tmp_path / "smol.yaml"
    study.write_text("""\
id: smolray
instruments: [{id: bfi-44, items: [bfi01, bfi02, bfi06, bfi07, bfi12, bfi17]}]
models: [{id: smol, backend: transformers, model: embedded}]
personas: {include_none: true, items: [{id: calm, text: "You are a calm, careful person."}]}
option_orders: [original, reversed]
template: {answer_prefix: 'Answer:'}
""")
    run_study(study, tmp_path / "single", progress=False, batch_size=6)
    rep = run_study_ray(study, tmp_path / "ray", address=cluster, workers=2, batch_size=6, progress=False,
                        speculate=False)
    assert rep.workers == 2 and all(w["items"] > 0 for w in rep.per_worker)
    a, b = pm.read_run(tmp_path / "single"), pm.read_run(tmp_path / "ray")
    assert len(a) == len(b) == 6 * 2 * 2
    design = ["cell_key", "item", "persona", "order_id", "permutation", "prompt", "weights_sha256", "status"]
    pd.testing.assert_frame_equal(a[design], b[design])
    assert (a["chosen_option"] == b["chosen_option"]).all()
    pa, pb = np.vstack(a["probs"]), np.vstack(b["probs"])
    assert np.abs(pa - pb).max() < 1e-4
    assert pa.std(axis=0).max() > 0.01           # a real model: answers vary across items and orders


def test_shard_prefixes_ignore_an_answer_prefill(tmp_path, mini_study):
    """With an answer prefix ("Answer:") the prompt ends with an assistant turn; the shard's prefix identity is
    still the shared part before the item (the engine's prefix_text), so one persona's shards share it."""
    path = mini_study(tmp_path, "prefill", "{id: sim, backend: dummy}", personas=1)
    path.write_text(path.read_text() + "template: {answer_prefix: 'Answer:'}\n")
    study = load_study(path)
    plan = build_plan(study)
    shards = plan_shards(plan, ["sim"], 4)
    assert len(shards) > len({s.prefix for s in shards})   # shards of one prefix group share their prefix
    assert all("Answer:" not in s.prefix for s in shards)   # the prefill after the item is not part of it
