"""Reliability of every scale of a run, the way an R user writes a `library(psych)` script.

    python analyses/01_reliability.py runs/quickstart

For each questionnaire scale and model: Cronbach's alpha (psych::alpha) with the Feldt CI, McDonald's omega
(psych::omega) and all split-half reliabilities (psych::splitHalf). Respondents are the administrations (persona x
instruction wording x option order x seed); items are the keyed item scores.
"""

import sys

import psychometrika as pm

run = next((a for a in sys.argv[1:] if not a.startswith("--")), "runs/quickstart")
keep_invalid = "--keep-invalid" in sys.argv          # keep screened-out answers (not recommended)

df = pm.read_run(run)                                # tidy table: one row per administered item
screened = pm.screen_and_exclude(df, keep=keep_invalid)  # screen; invalid cells leave the trait statistics
print(screened.banner)                               # what was screened out and why
df = screened.responses
if df.empty:                                         # nothing valid is left (the banner says so): stop here
    sys.exit(0)
print("Respondents are administration conditions of one model (persona x instruction x option order x seed), "
      "not independent people.")
log = pm.WarningSummary()                            # warnings are recorded and summarised at the end, not hidden
study = pm.read_manifest(run)["study"]
instruments = [pm.load_instrument(c if isinstance(c, str) else c["id"]) for c in study["instruments"]]
source = "expected" if (df["mode"] == "score").all() else "chosen"

with log:
    for ins in instruments:
        if ins.response_format.type not in ("likert", "numeric"):
            continue                                     # SJTs: see 03_self_report_vs_behaviour.py
        if not (df["instrument"] == ins.id).any():
            print(f"\n=== {ins.id}: withheld: every answer was screened out (see the screening above) ===")
            continue
        items = pm.item_scores(df[df["instrument"] == ins.id], ins, source=source)
        for scale, members in ins.scale_items().items():
            for model, sub in items[items["item"].isin(members)].groupby("model"):
                wide = pm.to_wide(sub, value="score")    # administrations x items, like an R data frame
                print(f"\n=== {ins.id} {scale} ({model}): {wide.shape[0]} administrations x {wide.shape[1]} items ===")
                if wide.shape[1] < 2:
                    print("fewer than two items: no reliability")
                    continue
                rule = pm.guard("alpha", wide.shape[0], items=wide.shape[1])  # warns below the rule
                if not rule.estimable:
                    print(f"alpha: {rule.text()}")
                    continue
                if not rule.adequate:
                    print(f"caution: too little information for a stable alpha ({rule.reason})")
                try:
                    print(pm.alpha(wide, n_iter=0).summary())
                except pm.PsychometrikaError as exc:
                    print(f"alpha not computed: {exc}")
                    continue                             # no omega or split-half without a defined alpha
                rule = pm.guard("omega", wide.shape[0], items=wide.shape[1], warn=False)
                if wide.shape[1] >= 6 and rule.estimable:
                    try:
                        print(pm.omega(wide, nfactors=3).summary())
                    except pm.PsychometrikaError as exc:
                        print(f"omega not computed: {exc}")
                elif wide.shape[1] >= 6:
                    print(f"omega: {rule.text()}")
                try:
                    print(pm.split_half(wide, seed=1).summary())
                except pm.PsychometrikaError as exc:
                    print(f"split-half not computed: {exc}")
print("\n" + log.summary())
