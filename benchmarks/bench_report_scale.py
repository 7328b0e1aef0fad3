"""The report's statistics at scale: seconds per chapter and peak memory for 100 k to 1 M responses.

Issue 20 asks that the statistics of a report on 1 M responses finish within minutes on 2 cores. This
benchmark writes a run of simulated answers (two dummy models, one with a planted primacy bias, the BFI-44 and
the SD-3, 7 personas x 2 instruction wordings x 6 option orders x S seeds; 11,928 responses per seed) and times
:func:`psychometrika.report.statistics.compute_statistics` on it, chapter by chapter:

    python benchmarks/bench_report_scale.py --responses 100000            # 9 seeds, 107,352 responses
    python benchmarks/bench_report_scale.py --responses 1000000 --keep /tmp/run1m
    python benchmarks/bench_report_scale.py --run /tmp/run1m              # re-time an existing run

It prints one JSON object (seconds per chapter, total, responses per second, peak RSS) and, with
``--record``, writes it to ``benchmarks/results/``. ``tests/report/test_scale.py`` runs :func:`measure` on a
reduced size and checks the planted bias, not the time (timings belong here, not in tests).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import resource
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PER_SEED = 2 * 7 * 2 * 6 * (44 + 27)


def study_text(seeds: int) -> str:
    """The benchmark's study: ``seeds`` decoding seeds make ``seeds * 11,928`` responses."""
    return f"""\
id: report-scale
seed: 3
instruments: [bfi-44, sd3]
models: [{{id: sim-a, backend: dummy, model: a, settings: {{position_bias: 1.0}}}}, {{id: sim-b, backend: dummy, model: b}}]
personas:
  include_none: true
  items: [{{id: p1, text: "You are warm."}}, {{id: p2, text: "You are cold."}}, {{id: p3, text: "You are lazy."}},
          {{id: p4, text: "You are organised."}}, {{id: p5, text: "You are anxious."}}, {{id: p6, text: "You are curious."}}]
paraphrases: {{instructions: 2}}
option_orders: [cyclic, reversed]
mode: score
decoding: {{seeds: {list(range(1, seeds + 1))}}}
"""


def write_run(folder: Path, responses: int) -> tuple[Path, float]:
    """Write the simulated run of about ``responses`` answers under ``folder``; (run folder, seconds)."""
    from psychometrika.engine.run import run_study

    seeds = max(1, math.ceil(responses / PER_SEED))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(study_text(seeds))
    t = time.perf_counter()
    run_study(folder / "study.yaml", folder / "run", progress=False, batch_size=4096)
    return folder / "run", time.perf_counter() - t


def measure(run_dir: str | Path) -> dict[str, Any]:
    """Time :func:`compute_statistics` on ``run_dir``; the statistics object is returned under ``"stats"``."""
    from psychometrika.report.statistics import compute_statistics

    t = time.perf_counter()
    st = compute_statistics(run_dir)
    total = time.perf_counter() - t
    n = len(st.responses)
    return {"responses": n, "total_seconds": round(total, 1), "responses_per_s": round(n / total),
            "seconds": {k: round(v, 1) for k, v in st.seconds.items()},
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "stats": st}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--responses", type=int, default=100_000, help="about how many responses to simulate")
    ap.add_argument("--run", type=Path, help="time an existing run folder instead of writing one")
    ap.add_argument("--keep", type=Path, help="write the simulated run here (kept) instead of a temporary folder")
    ap.add_argument("--record", action="store_true", help="also write the result to benchmarks/results/")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        written = None
        run_dir = a.run
        if run_dir is None:
            run_dir, written = write_run(a.keep or Path(tmp), a.responses)
        res = measure(run_dir)
    res.pop("stats")
    res.update(run_seconds=None if written is None else round(written, 1), machine=platform.machine(),
               cores=len(__import__("os").sched_getaffinity(0)), date=str(date.today()))
    print(json.dumps(res, indent=2))
    if a.record:
        out = ROOT / "benchmarks" / "results" / f"{date.today()}-report-scale-{res['responses']}.json"
        out.write_text(json.dumps(res, indent=2) + "\n")
        print(f"written {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
