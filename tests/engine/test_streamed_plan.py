"""The plan streamed in persona-major chunks (issue 20, scale): the same rows as the whole plan, bounded chunks,
and a run administered chunk by chunk stores exactly what a run in one piece stores, resumable across chunks."""

from __future__ import annotations

import pandas as pd
import pytest

import psychometrika as pm
from psychometrika.design.factors import expand_factors, plan_size
from psychometrika.design.study import Study
from psychometrika.engine.run import run_study
from psychometrika.plan.plan import build_plan, iter_plan

COLS = ["cell_key", "model", "instrument", "item", "persona", "order_id", "seed", "chosen_option", "probs"]


def _study() -> Study:
    return Study.model_validate({
        "id": "streamed", "instruments": [{"id": "bfi-44", "items": ["bfi01", "bfi02", "bfi06", "bfi07"]}, "sd3"],
        "models": [{"id": "a", "backend": "dummy", "model": "a"},
                   {"id": "b", "backend": "dummy", "model": "b", "settings": {"position_bias": 1.0}}],
        "personas": {"include_none": True, "generate": {
            "template": "You are {age} years old and work as {job|a}.", "sample": 9, "seed": 4,
            "attributes": {"age": [25, 40, 60], "job": ["nurse", "baker", "pilot", "clerk"]}}},
        "option_orders": ["original", "reversed"], "decoding": {"seeds": [1, 2]}})


def test_chunks_hold_exactly_the_plan_persona_major_and_bounded():
    study = _study()
    whole = build_plan(study)
    chunks = list(iter_plan(study, chunk_rows=100))
    per_persona = len(whole) // (10 * 2)  # 9 generated personas + none, 2 models
    assert len(whole) == plan_size(study, expand_factors(study)) == 2 * 10 * (4 + 27) * 2 * 2 == per_persona * 20
    assert sum(map(len, chunks)) == len(whole)
    assert all(len(c) <= max(100, per_persona) for c in chunks)
    # every persona of a model sits in exactly one chunk; chunks are one model each, models in study order
    seen = [(c["model"].iat[0], p) for c in chunks for p in c["persona"].unique()]
    assert len(seen) == len(set(seen)) == 20
    assert all(c["model"].nunique() == 1 for c in chunks)
    assert [c["model"].iat[0] for c in chunks] == sorted(c["model"].iat[0] for c in chunks)
    streamed = pd.concat(chunks).set_index("cell_key").sort_index()
    pd.testing.assert_frame_equal(streamed, whole.set_index("cell_key").sort_index()[streamed.columns])


def test_one_persona_is_never_split_even_when_it_exceeds_the_chunk():
    chunks = list(iter_plan(_study(), chunk_rows=1))
    assert len(chunks) == 20 and all(c["persona"].nunique() == 1 for c in chunks)
    with pytest.raises(ValueError):
        next(iter_plan(_study(), chunk_rows=0))


def test_a_streamed_run_stores_what_a_whole_run_stores_and_resumes_across_chunks(tmp_path):
    study = _study()
    whole = run_study(study, tmp_path / "whole", progress=False, chunk_rows=10**6)
    assert whole.complete and whole.written == whole.planned == 2 * 10 * 31 * 4
    # small chunks, interrupted twice mid-way (max_rows stops after the batch that reaches it)
    first = run_study(study, tmp_path / "streamed", progress=False, chunk_rows=50, batch_size=16, max_rows=100)
    assert 100 <= first.written < first.planned and not first.complete
    second = run_study(study, tmp_path / "streamed", progress=False, chunk_rows=50, batch_size=16, max_rows=700)
    assert second.already_done == first.written
    last = run_study(study, tmp_path / "streamed", progress=False, chunk_rows=50, batch_size=16)
    assert last.already_done + last.written == last.planned and last.complete
    a = pm.read_run(tmp_path / "whole").sort_values("cell_key")[COLS].reset_index(drop=True)
    b = pm.read_run(tmp_path / "streamed").sort_values("cell_key")[COLS].reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    man_a, man_b = (pm.read_manifest(tmp_path / d) for d in ("whole", "streamed"))
    assert man_a["design_cells"] == man_b["design_cells"] == {
        "model": 2, "instrument": 2, "item": 31, "persona": 10, "instruction_id": 1, "stem_id": 1, "order_id": 2,
        "label_scheme": 1, "seed": 2, "repetition": 1}
    assert man_b["planned_rows"] == man_b["stored_rows"] == last.planned and man_b["complete"]
    # a finished run does not load a backend again
    calls = []
    again = run_study(study, tmp_path / "streamed", progress=False, chunk_rows=50,
                      backend_factory=lambda spec: calls.append(spec) or None)
    assert again.written == 0 and calls == []


def test_the_plan_summary_of_the_chunks_equals_that_of_the_whole_plan():
    from psychometrika.plan.plan import plan_summary

    study = _study()
    whole = plan_summary(study, build_plan(study))
    chunked = plan_summary(study, iter_plan(study, chunk_rows=40))
    assert chunked == whole
    assert whole["prompts"] == 2480 and whole["per_model"] == {"a": 1240, "b": 1240}
    assert 0.3 < whole["shared_prefix_share"] < 1
