"""Self-report versus behaviour: questionnaire scales against SJT, game and text trait scores, and the MTMM matrix.

    python analyses/03_self_report_vs_behaviour.py runs/quickstart

One table of trait scores for every instrument (questionnaires, SJTs, games, probes), a subject being one
administration condition (model x persona x seed x repetition; paraphrases and option orders averaged), then
the Campbell-Fiske multitrait-multimethod matrix and the belief-behaviour consistency of the games.
"""

import sys
import warnings

import psychometrika as pm

run = sys.argv[1] if len(sys.argv) > 1 else "runs/quickstart"
warnings.simplefilter("ignore", RuntimeWarning)

df, manifest, instruments = pm.load_run(run)           # responses, manifest, the instruments they came from
scores = pm.behaviour_scores(df, instruments)                      # instrument x scale x respondent, method column
print(scores.groupby(["instrument", "method"])["score"].describe()[["count", "mean", "std"]].round(2))

long = pm.mtmm_long(scores, instruments)                           # subject, trait, method, score
if long.empty:
    sys.exit("no trait is measured by both a questionnaire and a behavioural measure in this run")
subject = [c for c in pm.CONDITION_COLUMNS if c in long.columns]
for model, sub in long.groupby("model"):
    n_subjects = sub[subject].drop_duplicates().shape[0]
    print(f"\n=== MTMM ({model}): {n_subjects} subjects ===")
    if n_subjects < 3:
        print("fewer than 3 subjects (model x persona x seed x repetition): no correlations; add personas or seeds")
        continue
    print(pm.mtmm(sub, subject=subject, trait="trait", method="method", value="score").summary())

    # the convergent correlations with Fisher-z confidence intervals
    wide = sub.pivot_table(index=subject, columns=["trait", "method"], values="score")
    for trait in sorted(sub["trait"].unique()):
        methods = sorted(sub.loc[sub["trait"] == trait, "method"].unique())
        for i, a in enumerate(methods):
            for b in methods[i + 1:]:
                pair = wide[[(trait, a), (trait, b)]].dropna()
                if len(pair) >= 4 and pair.std().gt(0).all():
                    print(f"{trait}: {a} vs {b}:", pm.cor_ci(pair.iloc[:, 0].to_numpy(), pair.iloc[:, 1].to_numpy()))
                else:
                    print(f"{trait}: {a} vs {b}: not estimable (n={len(pair)} or a constant score)")

games = df[df["instrument"] == "econ-games"]
if len(games):
    print("\n=== belief-behaviour consistency (econ-games) ===")
    print(pm.belief_behaviour(df, instruments).round(2).to_string(index=False))
