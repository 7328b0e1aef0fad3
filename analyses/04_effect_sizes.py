"""Effect sizes: how far personas (and models, option orders, instruction wordings) move each scale score.

    python analyses/04_effect_sizes.py runs/quickstart

Descriptive statistics by group (psych::describeBy), then Cohen's d and Hedges' g with confidence intervals
(effectsize::cohens_d / hedges_g) against the reference group.
"""

import sys
import warnings

import psychometrika as pm

run = sys.argv[1] if len(sys.argv) > 1 else "runs/quickstart"
warnings.simplefilter("ignore")

df = pm.read_run(run)
study = pm.read_manifest(run)["study"]
instruments = [pm.load_instrument(c if isinstance(c, str) else c["id"]) for c in study["instruments"]]
source = "expected" if (df["mode"] == "score").all() else "chosen"
scores = pm.scale_scores(df, instruments, source=source).dropna(subset=["score"])

print("Scale scores by persona (describeBy):")
for (inst, scale), sub in scores.groupby(["instrument", "scale"]):
    print(f"\n--- {inst} {scale} ---")
    for persona, g in sub.groupby("persona"):
        print(f"persona = {persona}")
        print(pm.describe(g[["score"]]).summary())

if not hasattr(pm, "compare_groups"):
    print("\n(pm.compare_groups is not available in this version of psychometrika)")
    sys.exit(0)

for factor, ref in (("persona", "none"), ("model", None), ("order_id", "original"), ("instruction_id", None)):
    if scores[factor].nunique() < 2:
        continue
    print(f"\n=== differences between levels of {factor} ===")
    for (inst, scale), sub in scores.groupby(["instrument", "scale"]):
        r = ref if ref in set(sub[factor]) else None
        res = pm.compare_groups(sub, dv="score", group=factor, ref=r)
        print(f"\n--- {inst} {scale} ---")
        print(res.round(3).to_string(index=False))
