"""Factor structure of every questionnaire of a run (psych::fa.parallel, psych::fa, factor.congruence, lavaan).

    python analyses/02_factor_structure.py runs/quickstart

Item responses enter unreversed, so reverse-keyed items should load negatively. The target pattern for Tucker's
congruence is the human loading matrix when the instrument carries one (norms.loadings), else the scoring key.
"""

import sys

import pandas as pd

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
manifest = pm.read_manifest(run)
study = manifest["study"]
instruments = [pm.load_instrument(c if isinstance(c, str) else c["id"]) for c in study["instruments"]]
source = "expected" if (df["mode"] == "score").all() else "chosen"

with log:
    for ins in instruments:
        if ins.response_format.type not in ("likert", "numeric"):
            continue
        if not (df["instrument"] == ins.id).any():
            print(f"\n=== {ins.id}: withheld: every answer was screened out (see the screening above) ===")
            continue
        items = pm.item_scores(df[df["instrument"] == ins.id], ins, source=source)
        for model, sub in items.groupby("model"):
            wide = pm.to_wide(sub, value="value")       # raw (unreversed) answers
            scales = {s.id: [i for i in ins.scale_items()[s.id] if i in wide.columns]
                      for s in ins.scales if s.parent is None}
            scales = {s: its for s, its in scales.items() if its}
            print(f"\n=== {ins.id} ({model}): {wide.shape[0]} administrations x {wide.shape[1]} items, "
                  f"{len(scales)} intended factors ===")
            try:
                print(pm.kmo(wide).summary())
            except pm.PsychometrikaError as exc:
                print(f"KMO not computed: {exc}")
            rule = pm.guard("efa", wide.shape[0], items=wide.shape[1])  # warns below the rule
            if not rule.estimable:
                print(f"factor analysis: {rule.text()}")
                continue
            if not rule.adequate:
                print(f"caution: too little information for a stable factor solution ({rule.reason})")
            try:
                print(pm.fa_parallel(wide, n_iter=20, seed=manifest.get("seed", 1)).summary())
                fit = pm.fa(wide, nfactors=max(1, min(len(scales), wide.shape[1] - 1)), rotate="oblimin")
                print(fit.summary())
            except pm.PsychometrikaError as exc:
                print(f"not computed: {exc}")
                continue
            if ins.norms is not None and ins.norms.loadings:
                target = pd.DataFrame.from_dict(ins.norms.loadings, orient="index").fillna(0.0)
                print("\nTucker congruence with the human loadings:")
            else:
                target = pd.DataFrame(0.0, index=wide.columns, columns=list(scales))
                for s, its in scales.items():
                    for i in its:
                        target.loc[i, s] = ins.item(i).keyed
                print("\nTucker congruence with the scoring key:")
            common = [i for i in fit.loadings.index if i in target.index]
            print(pm.congruence(fit.loadings.loc[common], target.loc[common]).round(2).to_string())
            try:
                cfa = pm.cfa
            except AttributeError:
                print("\n(pm.cfa is not available in this version of psychometrika)")
                continue
            syntax = "\n".join(f"{s} =~ " + " + ".join(its) for s, its in scales.items() if len(its) >= 2)
            try:
                model_fit = cfa(syntax, wide)
                print("\nCFA of the intended structure (lavaan syntax):\n" + syntax)
                print(model_fit.fit_measures().round(3).to_string())
            except pm.PsychometrikaError as exc:
                print(f"CFA not computed: {exc}")
print("\n" + log.summary())
