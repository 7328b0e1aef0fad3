"""Self-report versus behaviour: questionnaire scale scores against SJT trait scores, and the MTMM matrix.

    python analyses/03_self_report_vs_behaviour.py runs/quickstart

Scores of one administration condition (model, persona, instruction id, option order, seed) are paired across
instruments; scales are matched to traits by their names (e.g. "Agreeableness").
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
kind = {i.id: "behaviour" if i.response_format.type == "multiple_choice" else "questionnaire" for i in instruments}
trait = {(i.id, s.id): s.name.lower() for i in instruments for s in i.scales}

scores = pm.scale_scores(df, instruments, source=source)      # respondents x scales, tidy
scores["measure"] = scores["instrument"] + ":" + scores["scale"]
keys = [c for c in pm.RESPONDENT_COLUMNS if c in scores.columns]
wide = scores.pivot_table(index=keys, columns="measure", values="score")
quest = [m for m in wide.columns if kind[m.split(":")[0]] == "questionnaire"]
behav = [m for m in wide.columns if kind[m.split(":")[0]] == "behaviour"]
if not quest or not behav:
    sys.exit("this run has no questionnaire and behavioural (SJT) instrument pair")

for model, w in wide.groupby(level="model"):
    w = w.dropna(axis=1, how="all")
    print(f"\n=== {model}: {len(w)} paired administrations ===")
    print("cor(questionnaire, behaviour):")
    print(w.corr().loc[[q for q in quest if q in w], [b for b in behav if b in w]].round(2).to_string())
    try:
        cor_ci = pm.cor_ci
    except AttributeError:
        print("(pm.cor_ci is not available in this version of psychometrika)")
        cor_ci = None
    for q in quest:
        for b in behav:
            if q in w and b in w and trait[tuple(q.split(":"))] == trait[tuple(b.split(":"))] and cor_ci:
                pair = w[[q, b]].dropna()
                print(f"{q} vs {b}:", cor_ci(pair[q].to_numpy(), pair[b].to_numpy()))

try:
    mtmm = pm.mtmm
except AttributeError:
    print("\n(pm.mtmm is not available in this version of psychometrika)")
else:
    long = scores.assign(trait=[trait[(i, s)] for i, s in zip(scores["instrument"], scores["scale"])])
    for model, sub in long.groupby("model"):
        print(f"\n=== MTMM ({model}) ===")
        print(mtmm(sub.rename(columns={"instrument": "method"}), trait="trait", method="method",
                   value="score").summary())
