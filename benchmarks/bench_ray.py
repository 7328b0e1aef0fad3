"""Scaling of the Ray executor: throughput with 1 and 2 workers (or any list) and the ratio.

Two workloads, each administered in full into a fresh run folder per worker count:

* ``dummy``: the simulated backend sleeping ``--delay`` seconds per prompt (a stand-in for a GPU worker whose
  time is spent off the Python interpreter; the ideal ratio is the worker count);
* ``embedded``: the real SmolLM2-135M on CPU, one core per worker (on a 2-core machine 2 workers share the
  memory bandwidth, so the ratio is below 2).

For each run it prints the end-to-end rate (including starting workers and loading models) and the administering
rate (prompts ÷ time after the workers were ready), then one line per workload::

    ratio_2_over_1[dummy]=1.93

Usage::

    python benchmarks/bench_ray.py                                 # both workloads, 1 and 2 workers, local Ray
    python benchmarks/bench_ray.py --backend dummy --prompts 96 --delay 0.01
    python benchmarks/bench_ray.py --address auto --workers 1,2,4,8 --backend embedded --json out.json
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from pathlib import Path

from psychometrika.engine.ray_executor import connect, run_study_ray
from psychometrika.engine.run import run_study

BFI_ITEMS = [f"bfi{i:02d}" for i in range(1, 45)]


def _study(folder: Path, name: str, model_line: str, prompts: int) -> tuple[Path, int]:
    """A BFI study of about ``prompts`` prompts: items x option orders x personas (prefix groups of 22+)."""
    orders = 2
    per_persona = 44 * orders
    personas = max(1, -(-prompts // per_persona))
    items = BFI_ITEMS if prompts >= per_persona else BFI_ITEMS[:max(1, prompts // orders)]
    persona_lines = ", ".join(f'{{id: p{i}, text: "You are respondent number {i} of this survey."}}'
                              for i in range(personas - 1))
    path = folder / f"{name}.yaml"
    path.write_text(f"""\
id: {name}
instruments: [{{id: bfi-44, items: [{', '.join(items)}]}}]
models: [{model_line}]
personas: {{include_none: true, items: [{persona_lines}]}}
option_orders: [original, reversed]
template: {{answer_prefix: 'Answer:'}}
""")
    return path, len(items) * orders * personas


def _one(study: Path, out: Path, workers: int, address: str, batch_size: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    t = time.perf_counter()
    rep = run_study_ray(study, out, address=address, workers=workers, batch_size=batch_size, progress=False)
    wall = time.perf_counter() - t
    admin = max(wall - rep.startup_s, 1e-9)
    return {"workers": rep.workers, "prompts": rep.written, "seconds": wall, "startup_s": rep.startup_s,
            "items_per_s_end_to_end": rep.written / wall, "items_per_s": rep.written / admin,
            "per_worker_items_per_s": [round(w["items_per_s"], 2) for w in rep.per_worker],
            "retried": rep.retried, "speculative": rep.speculative}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=["dummy", "embedded", "both"], default="both")
    ap.add_argument("--workers", default="1,2", help="comma-separated worker counts (default 1,2)")
    ap.add_argument("--address", default="local", help="local | auto | HOST:PORT (a running cluster)")
    ap.add_argument("--prompts", type=int, default=None, help="prompts per run (dummy 704, embedded 88)")
    ap.add_argument("--delay", type=float, default=0.02, help="dummy: seconds per prompt")
    ap.add_argument("--batch-size", type=int, default=None, help="shard size (dummy 16, embedded 8)")
    ap.add_argument("--single", action="store_true", help="also time the single-process engine (run_study)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    counts = [int(x) for x in args.workers.split(",")]
    workloads = ["dummy", "embedded"] if args.backend == "both" else [args.backend]
    started = connect(args.address, num_cpus=max(counts) if args.address == "local" else None)
    results: dict[str, list[dict]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as tmp:
        folder = Path(tmp)
        for wl in workloads:
            if wl == "dummy":
                line = f"{{id: sim, backend: dummy, settings: {{delay_s: {args.delay}}}}}"
                study, n = _study(folder, "benchdummy", line, args.prompts or 704)
                bs = args.batch_size or 16
            else:
                study, n = _study(folder, "benchsmol", "{id: smol, backend: transformers, model: embedded}",
                                  args.prompts or 88)
                bs = args.batch_size or 8
            print(f"\n{wl}: {n} prompts, shards of {bs}")
            print(f"{'workers':>8} {'seconds':>8} {'startup_s':>9} {'end-to-end/s':>13} {'items/s':>8}  per worker")
            rows = []
            if args.single:
                t = time.perf_counter()
                rep = run_study(study, folder / f"{wl}-single", progress=False, batch_size=bs)
                wall = time.perf_counter() - t
                print(f"{'single':>8} {wall:8.1f} {'':>9} {rep.written / wall:13.2f} {'':>8}  (one process)")
                rows.append({"workers": 0, "prompts": rep.written, "seconds": wall,
                             "items_per_s_end_to_end": rep.written / wall})
            for k in counts:
                r = _one(study, folder / f"{wl}-{k}", k, args.address, bs)
                rows.append(r)
                print(f"{r['workers']:>8} {r['seconds']:8.1f} {r['startup_s']:9.1f} "
                      f"{r['items_per_s_end_to_end']:13.2f} {r['items_per_s']:8.2f}  {r['per_worker_items_per_s']}")
            results[wl] = rows
            ray_rows = {r["workers"]: r for r in rows if r["workers"]}
            base = ray_rows.get(counts[0])
            for k in counts[1:]:
                if base and k in ray_rows:
                    print(f"ratio_{k}_over_{counts[0]}[{wl}]={ray_rows[k]['items_per_s'] / base['items_per_s']:.2f}")
    if started:
        import ray

        ray.shutdown()
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "results": results}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
