"""The report's statistics on a large simulated run (issue 7 / issue 20): correct at size, not timed here.

Timings live in ``benchmarks/bench_report_scale.py`` (and docs/benchmarks.md); this test runs the benchmark's
own run on a reduced size and checks what the simulation planted: model ``sim-a`` has +1 log-odds on the first
displayed option, ``sim-b`` none.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_report_scale import PER_SEED, measure, write_run  # noqa: E402


def test_statistics_of_a_large_run_recover_the_planted_primacy_bias(tmp_path):
    run_dir, _ = write_run(tmp_path, 3 * PER_SEED)
    res = measure(run_dir)
    st = res["stats"]
    assert res["responses"] == len(st["item_scores"]) == 3 * PER_SEED == 35_784
    assert set(st["reliability"]["n"]) == {7 * 2 * 6 * 3}
    assert set(res["seconds"]) >= {"load", "reliability", "factor", "comparability"}
    screening = st["screening"]
    modal = screening[screening["persona"] == "(all)"].groupby("model")["modal_position_share"].mean()
    # N(0, 1) logits over 5 (or 7) options: the first displayed wins ~20-25 % of the time without the bias and
    # clearly more with +1 log-odds
    assert modal["sim-a"] > 0.35 and modal["sim-b"] < 0.3, modal
