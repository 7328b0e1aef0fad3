"""Planning a large persona population: rows/s and peak memory of persona expansion and ``build_plan``.

Issue 20's target is 10,000 personas × 120 items (IPIP-NEO-120) × 2 option orders = 2.4 M prompts. This
benchmark builds the plan for a generated population of ``--personas`` N (a generator over the core bank's
tables, ``sample: N``) and reports, separately for the persona expansion and for the plan:

* seconds and rows (personas or prompts) per second;
* peak traced Python memory (``tracemalloc``; numpy/pandas buffers included) and bytes per prompt;
* the process's peak RSS (``resource.ru_maxrss``) at the end.

    python benchmarks/bench_persona_plan.py --personas 1000            # 240,000 prompts
    python benchmarks/bench_persona_plan.py --personas 200 --instrument bfi-44
    python benchmarks/bench_persona_plan.py --personas 10000 --stream      # 2.4 M prompts, chunk by chunk

A benchmark prints numbers; ``tests/design/test_persona_scale.py`` runs :func:`measure` on a reduced size and
checks the row count and a per-prompt memory bound. ``build_plan`` materialises every prompt (messages
included), so its memory grows linearly with the plan; ``run_study`` instead renders the plan in persona-major
chunks (``iter_plan``, ``--stream`` here), so its memory is bounded by one chunk whatever the population size.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def population_study(n_personas: int, instrument: str = "ipip-neo-120", orders: int = 2, seed: int = 1):
    """A study of ``n_personas`` generated biographical personas (core bank tables, seeded sample)."""
    from psychometrika.design.personas import DATA_DIR
    from psychometrika.design.study import Study
    from psychometrika.yamlio import parse_yaml
    from psychometrika.errors import StudyError

    bank = parse_yaml((DATA_DIR / "banks" / "core.yaml").read_text(encoding="utf-8"), "core.yaml", StudyError)
    gen = dict(bank["generator"])
    gen.update(sample=n_personas, seed=seed, id_prefix="pop")
    return Study.model_validate({
        "id": "population", "instruments": [instrument], "models": [{"id": "m", "backend": "dummy"}],
        "personas": {"include_none": False, "generate": gen},
        "option_orders": ["original", "reversed"][:orders]})


def measure(n_personas: int, instrument: str = "ipip-neo-120", orders: int = 2,
            trace: bool = True) -> dict[str, Any]:
    """Time and memory of expanding ``n_personas`` personas and planning the study's prompts
    (``trace=False``: time only; tracing memory slows planning about twofold)."""
    from psychometrika.design.factors import study_personas
    from psychometrika.plan.plan import build_plan

    study = population_study(n_personas, instrument, orders)
    if trace:
        tracemalloc.start()
    t0 = time.perf_counter()
    personas = study_personas(study)
    t1 = time.perf_counter()
    peak_personas = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.reset_peak()
    plan = build_plan(study)
    t2 = time.perf_counter()
    peak_plan = tracemalloc.get_traced_memory()[1] if trace else 0
    if trace:
        tracemalloc.stop()
    rows = len(plan)
    return {"personas": len(personas), "instrument": instrument, "orders": orders, "prompts": rows,
            "persona_seconds": round(t1 - t0, 3), "personas_per_s": round(len(personas) / max(t1 - t0, 1e-9)),
            "plan_seconds": round(t2 - t1, 3), "prompts_per_s": round(rows / max(t2 - t1, 1e-9)),
            "peak_persona_mb": round(peak_personas / 2**20, 1), "peak_plan_mb": round(peak_plan / 2**20, 1),
            "plan_bytes_per_prompt": round(peak_plan / max(rows, 1)),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def measure_streamed(n_personas: int, instrument: str = "ipip-neo-120", orders: int = 2,
                     chunk_rows: int | None = None) -> dict[str, Any]:
    """Time and peak RSS of rendering the plan chunk by chunk (:func:`iter_plan`, what ``run_study`` does),
    holding one chunk at a time; each chunk's prefix sort is included (the engine sorts every chunk)."""
    from psychometrika.engine.batch import prefix_sort
    from psychometrika.plan.plan import DEFAULT_CHUNK_ROWS, iter_plan

    study = population_study(n_personas, instrument, orders)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t0 = time.perf_counter()
    rows = chunks = biggest = 0
    personas: set[str] = set()
    for chunk in iter_plan(study, chunk_rows=chunk_rows or DEFAULT_CHUNK_ROWS):
        prefix_sort(chunk)
        rows += len(chunk)
        chunks += 1
        biggest = max(biggest, len(chunk))
        personas.update(chunk["persona"].unique())
    took = time.perf_counter() - t0
    return {"mode": "streamed", "personas": len(personas), "instrument": instrument, "orders": orders,
            "prompts": rows, "chunks": chunks, "largest_chunk": biggest, "plan_seconds": round(took, 1),
            "prompts_per_s": round(rows / max(took, 1e-9)), "rss_before_mb": round(rss0),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--personas", type=int, default=1000)
    ap.add_argument("--instrument", default="ipip-neo-120")
    ap.add_argument("--orders", type=int, default=2, choices=[1, 2])
    ap.add_argument("--no-trace", action="store_true", help="time only (no tracemalloc)")
    ap.add_argument("--stream", action="store_true", help="render chunk by chunk as run_study does (iter_plan)")
    ap.add_argument("--chunk-rows", type=int, default=None)
    a = ap.parse_args()
    if a.stream:
        print(json.dumps(measure_streamed(a.personas, a.instrument, a.orders, a.chunk_rows), indent=2))
        return
    res = measure(a.personas, a.instrument, a.orders, trace=not a.no_trace)
    full = 2_400_000
    res["extrapolated_2.4M_prompts"] = {"plan_seconds": round(full / max(res["prompts_per_s"], 1)),
                                        "plan_gb_traced": round(full * res["plan_bytes_per_prompt"] / 2**30, 1)}
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
