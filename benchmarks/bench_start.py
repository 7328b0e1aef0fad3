"""Start-up of the transformers backend on the embedded SmolLM2 GGUF, and its CPU wait policy under load.

Every measurement is a fresh Python process; the numbers are wall seconds from starting the process to the
first scored item (the first BFI-44 prompt of the benchmark workload, ``psychometrika.tools.bench.workload_plan``,
scored with its five options), so they include the interpreter, the imports, the model load and that item.

Modes, run interleaved in each round:

* ``cold``: an empty ``PSYCHOMETRIKA_CACHE`` (a new temporary folder each round): the GGUF is parsed and its
  dense conversion written to the cache (:mod:`psychometrika.models.convert`);
* ``warm``: the same cache again (the second run on a machine): loads the cached safetensors folder;
* ``warm_unset``: a warm start with ``omp_wait_policy: unset`` (libgomp's default spinning, the old default);
* ``gguf``: ``weights_cache: false``, loading the GGUF itself every time (what every start did before the cache).

All but ``warm_unset`` run under the backend's default wait policy (``passive``).

``--contention`` instead scores the first ``--items`` x 4 option orders of the workload after a warm start, with
``threads`` 2 under ``omp_wait_policy`` ``unset`` (libgomp's default) and ``passive``, and with ``threads`` 1, on
the machine as it is and with one concurrent CPU-bound process (a busy loop), interleaved; it prints items/s.

    python benchmarks/bench_start.py --rounds 3                 # start-up, prints medians
    python benchmarks/bench_start.py --contention --rounds 3    # wait policy, quiet vs one busy process
    python benchmarks/bench_start.py --out benchmarks/results/start.json

The lines ``median_<mode>_s=<seconds>`` (or ``median_t<threads>_<policy>_<load>_items_per_s=``) end the output.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
settings = json.loads(sys.argv[1])
n_items = int(sys.argv[2])
from psychometrika.backends import ScoreRequest, make_backend
from psychometrika.tools.bench import workload_plan
plan = workload_plan(max(1, n_items), 4 if n_items else 1)
reqs = [ScoreRequest(f"k{i}", tuple(m), tuple(c)) for i, (m, c) in enumerate(zip(plan["messages"], plan["continuations"]))]
t1 = time.perf_counter()
be = make_backend("transformers", model="embedded", **settings)
t2 = time.perf_counter()
first = be.score(reqs[:1])[0]
t3 = time.perf_counter()
print("FIRST", flush=True)
out = {"cpu_s_to_first_item": time.process_time(), "plan_s": t1 - t0, "load_s": t2 - t1, "first_item_s": t3 - t2, "logprobs": first.logprobs,
       "error": first.error, **{k: be.info.extra.get(k) for k in ("weights_cache", "conversion_s", "threads",
                                                                   "omp_wait_policy")}}
if n_items:
    be.score(reqs[:8])  # warm-up
    t4 = time.perf_counter()
    res = be.score(reqs)
    out["items"] = len(reqs)
    out["items_per_s"] = len(reqs) / (time.perf_counter() - t4)
    out["errors"] = sum(r.error is not None for r in res)
print("RESULT " + json.dumps(out), flush=True)
"""


def child(settings: dict, cache: str, n_items: int = 0, env_extra: dict | None = None) -> dict:
    """Run one fresh process; return its report with ``to_first_item_s`` (spawn to the first scored item)."""
    env = {**os.environ, "PSYCHOMETRIKA_CACHE": cache, "PYTHONPATH": str(REPO), "PSYCHOMETRIKA_NO_PROGRESS": "1"}
    env.pop("OMP_WAIT_POLICY", None)  # unset unless the caller sets it
    env.pop("OMP_NUM_THREADS", None)
    env.update(env_extra or {})
    t0 = time.perf_counter()
    p = subprocess.Popen([sys.executable, "-c", CHILD, json.dumps(settings), str(n_items)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = None
    result = None
    assert p.stdout is not None
    for line in p.stdout:
        if line.startswith("FIRST") and first is None:
            first = time.perf_counter() - t0
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
    err = p.stderr.read() if p.stderr else ""
    if p.wait() != 0 or result is None:
        raise RuntimeError(f"child failed ({p.returncode}): {err[-3000:]}")
    result["to_first_item_s"] = first
    return result


def _median(xs: list[float]) -> str:
    return f"{statistics.median(xs):.2f} ({min(xs):.2f}-{max(xs):.2f})"


def start_up(rounds: int, modes: list[str], save=lambda partial: None) -> dict:
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    ref = None
    for r in range(rounds):
        with tempfile.TemporaryDirectory(prefix="psy-start-") as cache:
            for mode in modes:
                settings = {"weights_cache": False} if mode == "gguf" else \
                    {"omp_wait_policy": "unset"} if mode == "warm_unset" else {}
                res = child(settings, cache)
                runs[mode].append(res)
                ref = ref or res["logprobs"]
                diff = max(abs(a - b) for a, b in zip(ref, res["logprobs"]))
                res["max_abs_diff_vs_first_run"] = diff
                print(f"# round {r + 1} {mode}: {res['to_first_item_s']:.2f} s to the first item "
                      f"(CPU {res.get('cpu_s_to_first_item', float('nan')):.1f} s; load "
                      f"{res['load_s']:.2f}, first item {res['first_item_s']:.2f}, cache {res['weights_cache']}, "
                      f"|d log-prob| {diff:.1e}, load average {os.getloadavg()[0]:.1f})", flush=True)
        save({"kind": "start", "rounds_done": r + 1, "runs": runs})
    summary = _summarise(runs, "to_first_item_s", "s")
    return {"kind": "start", "rounds": rounds, "runs": runs, "median_s": summary}


def _summarise(runs: dict[str, list[dict]], key: str, unit: str) -> dict[str, float]:
    """Print each variant's median (range) of ``key`` and a ``median_<variant>_<unit>=`` line; the medians."""
    summary = {m: statistics.median(x[key] for x in v) for m, v in runs.items()}
    for m, v in runs.items():
        print(f"# {m}: {_median([x[key] for x in v])} {unit.replace('_', ' ')}", flush=True)
    for m, med in summary.items():
        print(f"median_{m}_{unit}={med:.2f}")
    return summary


BUSY = "import time\nt = time.time() + 3600\nwhile time.time() < t:\n    pass\n"


def contention(rounds: int, n_items: int, save=lambda partial: None) -> dict:
    with tempfile.TemporaryDirectory(prefix="psy-start-") as cache:
        child({}, cache)  # fill the cache: every measured run is a warm start
        cells = [(threads, policy, load) for load in ("quiet", "busy")
                 for threads, policy in ((2, "unset"), (2, "passive"), (1, "passive"))]
        runs: dict[str, list[dict]] = {f"t{t}_{p}_{ld}": [] for t, p, ld in cells}
        for r in range(rounds):
            for threads, policy, load in cells:
                busy = subprocess.Popen([sys.executable, "-c", BUSY]) if load == "busy" else None
                try:
                    res = child({"threads": threads, "omp_wait_policy": policy}, cache, n_items)
                finally:
                    if busy is not None:
                        busy.kill()
                        busy.wait()
                runs[f"t{threads}_{policy}_{load}"].append(res)
                print(f"# round {r + 1} threads {threads} {policy:7s} {load}: {res['items_per_s']:.2f} items/s, "
                      f"{res['to_first_item_s']:.1f} s to the first item "
                      f"(threads {res['threads']}, policy {res['omp_wait_policy']}, errors {res['errors']}, "
                      f"load average {os.getloadavg()[0]:.1f})", flush=True)
            save({"kind": "contention", "rounds_done": r + 1, "runs": runs})
    summary = _summarise(runs, "items_per_s", "items_per_s")
    return {"kind": "contention", "rounds": rounds, "items": runs[next(iter(runs))][0]["items"], "runs": runs,
            "median_items_per_s": summary}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--modes", default="cold,warm,warm_unset,gguf",
                    help="comma-separated: cold, warm, warm_unset, gguf")
    ap.add_argument("--contention", action="store_true", help="measure omp_wait_policy quiet vs one busy process")
    ap.add_argument("--items", type=int, default=22, help="--contention: items (x 4 option orders) scored")
    ap.add_argument("--out", help="write the runs as JSON here")
    a = ap.parse_args(argv)
    import platform

    meta = {"date": time.strftime("%Y-%m-%d %H:%M:%S %z"), "cpus": os.cpu_count(), "machine": platform.machine(),
            "load_average_before": os.getloadavg()}
    print(f"# {meta}", flush=True)

    def save(obj: dict) -> None:  # after every round: a run cut short keeps what it measured
        if a.out:
            Path(a.out).parent.mkdir(parents=True, exist_ok=True)
            Path(a.out).write_text(json.dumps({**obj, **meta, "load_average_now": os.getloadavg()}, indent=1))

    out = contention(a.rounds, a.items, save) if a.contention else start_up(a.rounds, a.modes.split(","), save)
    save(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
