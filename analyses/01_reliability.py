"""Reliability of every scale of a run, the way an R user writes a `library(psych)` script.

    python analyses/01_reliability.py runs/quickstart

For each questionnaire scale and model: Cronbach's alpha (psych::alpha) with the Feldt CI, McDonald's omega
(psych::omega) and all split-half reliabilities (psych::splitHalf). Respondents are the administrations (persona x
instruction wording x option order x seed); items are the keyed item scores.
"""

import sys
import warnings

import psychometrika as pm

run = sys.argv[1] if len(sys.argv) > 1 else "runs/quickstart"
warnings.simplefilter("ignore")                      # like suppressWarnings(); remove to see psych's warnings

df = pm.read_run(run)                                # tidy table: one row per administered item
study = pm.read_manifest(run)["study"]
instruments = [pm.load_instrument(c if isinstance(c, str) else c["id"]) for c in study["instruments"]]
source = "expected" if (df["mode"] == "score").all() else "chosen"

for ins in instruments:
    if ins.response_format.type not in ("likert", "numeric"):
        continue                                     # SJTs: see 03_self_report_vs_behaviour.py
    items = pm.item_scores(df[df["instrument"] == ins.id], ins, source=source)
    for scale, members in ins.scale_items().items():
        for model, sub in items[items["item"].isin(members)].groupby("model"):
            wide = pm.to_wide(sub, value="score")    # administrations x items, like an R data frame
            print(f"\n=== {ins.id} {scale} ({model}): {wide.shape[0]} administrations x {wide.shape[1]} items ===")
            if wide.shape[1] < 2:
                print("fewer than two items: no reliability")
                continue
            try:
                print(pm.alpha(wide, n_iter=0).summary())
                if wide.shape[1] >= 6:
                    print(pm.omega(wide, nfactors=3).summary())
                print(pm.split_half(wide, seed=1).summary())
            except pm.PsychometrikaError as exc:
                print(f"not computed: {exc}")
            except ValueError as exc:                 # e.g. items with opposite signs everywhere
                print(f"not computed: {exc}")
