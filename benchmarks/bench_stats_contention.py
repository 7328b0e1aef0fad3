"""The report's statistics on an idle and on a loaded machine, with and without the BLAS thread limit.

Runs a representative set of the statistics a report computes (alpha, omega, fa, fa_parallel, split_half,
cfa, invariance, grm, polychoric, mardia, cohen_kappa) on the committed R fixtures, four ways: BLAS limited
to one thread inside the statistics (psychometrika's default, ``PSYCHOMETRIKA_BLAS_THREADS=1``) or left alone
(``=0``), each on an idle machine and while a concurrent CPU-bound process (large multithreaded matrix
products, one thread per core) runs. Prints each statistic's time and the ratios loaded / idle.

    python benchmarks/bench_stats_contention.py            # all four ways, 1 repetition
    python benchmarks/bench_stats_contention.py --repeat 3 --only limited

Start it WITHOUT ``OMP_NUM_THREADS=1`` / ``OPENBLAS_NUM_THREADS=1`` in the environment, otherwise BLAS is
single-threaded anyway and both ways measure the same thing. A benchmark, not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
FIX = ROOT / "tests" / "r" / "fixtures"


def _burn(stop: "mp.synchronize.Event") -> None:
    """The concurrent CPU-bound process: multithreaded BLAS products until told to stop."""
    import numpy as np
    a = np.random.default_rng(0).normal(size=(600, 600))
    while not stop.is_set():
        a = np.tanh(a @ a.T / 600.0)


def _workload():
    import numpy as np
    import pandas as pd

    import psychometrika as pm

    bfi = pd.read_csv(FIX / "bfi.csv")
    items = [f"{t}{i}" for t in "ACENO" for i in range(1, 6)]
    x25 = bfi[items]
    x30 = pd.concat([x25, bfi[["A1", "C1", "E1", "N1", "O1"]].add_suffix("b")], axis=1).iloc[:30, :7]
    hs = pd.read_csv(FIX / "lavaan_hs_school.csv")
    m_hs = "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
    m_bfi = "\n".join(f"{t} =~ " + " + ".join(f"{t}{i}" for i in range(1, 6)) for t in "ACENO")
    ratings = pd.read_csv(FIX / "kappa_ratings.csv")
    return {
        "alpha (bfi A, 5 items)": lambda: pm.alpha(bfi[[f"A{i}" for i in range(1, 6)]], keys=["A1"]),
        "omega (25 items, 5 factors)": lambda: pm.omega(x25, nfactors=5),
        "fa (25 items, 5 factors)": lambda: pm.fa(x25, 5),
        "fa_parallel (30 x 7)": lambda: pm.fa_parallel(x30, n_iter=20, seed=1),
        "split_half (10 items)": lambda: pm.split_half(x25.iloc[:, :10]),
        "cfa (bfi, 5 factors)": lambda: pm.cfa(m_bfi, x25),
        "invariance (HS39 by school)": lambda: pm.invariance(m_hs, hs, "school"),
        "grm (N1-N5)": lambda: pm.grm(bfi[[f"N{i}" for i in range(1, 6)]].dropna().iloc[:800]),
        "polychoric (10 items)": lambda: pm.polychoric(x25.iloc[:600, :10]),
        "mardia (HS39)": lambda: pm.mardia(hs.drop(columns="school")),
        "cohen_kappa (3 raters)": lambda: pm.cohen_kappa(ratings),
        "_warm": lambda: np.linalg.inv(np.eye(3)),
    }


def _time_all(work: dict, repeat: int) -> dict[str, float]:
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, fn in work.items():
            ts = []
            for _ in range(repeat):
                t0 = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t0)
            out[name] = statistics.median(ts)
    out.pop("_warm", None)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1, help="repetitions per statistic (median is printed)")
    ap.add_argument("--only", choices=("limited", "unlimited"), help="run one BLAS setting only")
    ap.add_argument("--burners", type=int, default=1, help="concurrent CPU-bound processes (default 1)")
    args = ap.parse_args(argv)
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        if os.environ.get(var) == "1":
            print(f"note: {var}=1 is set, so BLAS is single-threaded either way", file=sys.stderr)
    work = _workload()
    _time_all({"_warm": work["alpha (bfi A, 5 items)"]}, 1)
    settings = [s for s in ("limited", "unlimited") if args.only in (None, s)]
    results: dict[tuple[str, str], dict[str, float]] = {}
    for setting in settings:
        os.environ["PSYCHOMETRIKA_BLAS_THREADS"] = "1" if setting == "limited" else "0"
        results[(setting, "idle")] = _time_all(work, args.repeat)
        ctx = mp.get_context("spawn")
        stop = ctx.Event()
        procs = [ctx.Process(target=_burn, args=(stop,), daemon=True) for _ in range(args.burners)]
        for p in procs:
            p.start()
        time.sleep(1.0)                       # let the burners get going
        try:
            results[(setting, "loaded")] = _time_all(work, args.repeat)
        finally:
            stop.set()
            for p in procs:
                p.join(timeout=10)
    names = list(next(iter(results.values())))
    cols = [(s, m) for s in settings for m in ("idle", "loaded")]
    head = f"{'statistic':32s}" + "".join(f"{s + ' ' + m:>18s}" for s, m in cols) + \
        "".join(f"{'ratio ' + s:>18s}" for s in settings)
    print(f"cpu cores: {os.cpu_count()}, concurrent CPU-bound processes: {args.burners}, repeat: {args.repeat}")
    print(head)
    print("-" * len(head))
    tot = {c: 0.0 for c in cols}
    for n in names:
        row = f"{n:32s}"
        for c in cols:
            row += f"{results[c][n]:17.3f}s"
            tot[c] += results[c][n]
        for s in settings:
            row += f"{results[(s, 'loaded')][n] / results[(s, 'idle')][n]:17.2f}x"
        print(row)
    row = f"{'total':32s}" + "".join(f"{tot[c]:17.3f}s" for c in cols)
    row += "".join(f"{tot[(s, 'loaded')] / tot[(s, 'idle')]:17.2f}x" for s in settings)
    print(row)
    if len(settings) == 2:
        print(f"loaded machine: unlimited / limited BLAS = {tot[('unlimited', 'loaded')] / tot[('limited', 'loaded')]:.2f}x")


if __name__ == "__main__":
    main()
