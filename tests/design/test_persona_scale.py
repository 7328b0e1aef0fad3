"""Scale: 10,000 generated personas expand quickly; the plan benchmark runs on a reduced size."""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from bench_persona_plan import measure, population_study  # noqa: E402

from psychometrika.design.factors import study_personas  # noqa: E402


def test_ten_thousand_personas_expand_in_bounded_time():
    study = population_study(10_000)
    t0 = time.perf_counter()
    personas = study_personas(study)
    took = time.perf_counter() - t0
    assert len(personas) == 10_000 and len({p.text for p in personas}) == 10_000
    assert [p.id for p in study_personas(study)[:3]] == [p.id for p in personas[:3]] == ["pop-00001", "pop-00002",
                                                                                          "pop-00003"]
    assert took < 30, f"10,000 personas took {took:.1f} s"


def test_plan_benchmark_reduced_size():
    res = measure(12, instrument="bfi-44", orders=2)
    assert res["personas"] == 12 and res["prompts"] == 12 * 44 * 2
    # measured 3.2 KB per prompt (messages included); a bound well above that catches a quadratic blow-up
    assert res["plan_bytes_per_prompt"] < 12_000, res
    assert res["prompts_per_s"] > 50, res


def test_streamed_plan_benchmark_reduced_size():
    from bench_persona_plan import measure_streamed

    res = measure_streamed(12, instrument="bfi-44", orders=2, chunk_rows=200)
    # 88 prompts per persona: 200-row chunks hold 2 whole personas each
    assert (res["personas"], res["prompts"], res["chunks"], res["largest_chunk"]) == (12, 12 * 44 * 2, 6, 176)
