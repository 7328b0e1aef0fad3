"""Effect sizes: how far personas (and models, option orders, instruction wordings) move each scale score.

    python analyses/04_effect_sizes.py runs/quickstart

Descriptive statistics by group (psych::describeBy), then Cohen's d and Hedges' g with confidence intervals
(effectsize::cohens_d / hedges_g) against the reference group.
"""

import sys

import psychometrika as pm

run = next((a for a in sys.argv[1:] if not a.startswith("--")), "runs/quickstart")
keep_invalid = "--keep-invalid" in sys.argv          # keep screened-out answers (not recommended)

df = pm.read_run(run)
screened = pm.screen_and_exclude(df, keep=keep_invalid)  # screen; invalid cells leave the trait statistics
print(screened.banner)                               # what was screened out and why
df = screened.responses
if df.empty:                                         # nothing valid is left (the banner says so): stop here
    sys.exit(0)
log = pm.WarningSummary()                            # warnings are recorded and summarised at the end, not hidden
study = pm.read_manifest(run)["study"]
instruments = [pm.load_instrument(c if isinstance(c, str) else c["id"]) for c in study["instruments"]]
with log:
    source = "expected" if (df["mode"] == "score").all() else "chosen"
    scores = pm.scale_scores(df, instruments, source=source).dropna(subset=["score"])

    print("Scale scores by persona (describeBy):")
    for (inst, scale), sub in scores.groupby(["instrument", "scale"]):
        print(f"\n--- {inst} {scale} ---")
        for persona, g in sub.groupby("persona"):
            print(f"persona = {persona}")
            print(pm.describe(g[["score"]]).summary())

    print("\n" + pm.PSEUDO_REPLICATION_CAVEAT)

    for factor, ref in (("persona", "none"), ("model", None), ("order_id", "original"), ("instruction_id", None)):
        if scores[factor].nunique() < 2:
            continue
        print(f"\n=== differences between levels of {factor} ===")
        for (inst, scale), sub in scores.groupby(["instrument", "scale"]):
            r = ref if ref in set(sub[factor]) else None
            print(f"\n--- {inst} {scale} ---")
            try:
                res = pm.compare_groups(sub, dv="score", group=factor, ref=r)
            except pm.PsychometrikaError as exc:
                print(f"not computed: {exc}")
                continue
            print(res.round(3).to_string(index=False))
print("\n" + log.summary())
