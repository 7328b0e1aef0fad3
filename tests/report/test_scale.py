"""The statistics of a report of ~100k responses take under a minute on 2 cores (issue 7)."""

from __future__ import annotations

import time

import pytest

pytestmark = pytest.mark.slow

BIG = """\
id: big
seed: 3
instruments: [bfi-44, sd3]
models: [{id: sim-a, backend: dummy, model: a, settings: {position_bias: 1.0}}, {id: sim-b, backend: dummy, model: b}]
personas:
  include_none: true
  items: [{id: p1, text: "You are warm."}, {id: p2, text: "You are cold."}, {id: p3, text: "You are lazy."},
          {id: p4, text: "You are organised."}, {id: p5, text: "You are anxious."}, {id: p6, text: "You are curious."}]
paraphrases: {instructions: 2}
option_orders: [cyclic, reversed]
mode: score
decoding: {seeds: [1, 2, 3, 4, 5, 6, 7, 8]}
"""


def test_statistics_of_100k_responses_within_a_minute(tmp_path):
    from psychometrika.engine.run import run_study
    from psychometrika.report.statistics import compute_statistics

    (tmp_path / "study.yaml").write_text(BIG)
    rep = run_study(tmp_path / "study.yaml", tmp_path / "run", progress=False, batch_size=4096)
    # 2 models x 7 personas x 2 wordings x 6 orders x 8 seeds x (44 + 27) items
    assert rep.written == 2 * 7 * 2 * 6 * 8 * 71 == 95_424
    t = time.perf_counter()
    st = compute_statistics(tmp_path / "run")
    seconds = time.perf_counter() - t
    print(f"statistics of {rep.written} responses: {seconds:.1f} s", {k: round(v, 1) for k, v in st.seconds.items()})
    assert seconds < 60
    assert len(st["item_scores"]) == 2 * 7 * 2 * 6 * 8 * 71
    assert set(st["reliability"]["n"]) == {7 * 2 * 6 * 8}
