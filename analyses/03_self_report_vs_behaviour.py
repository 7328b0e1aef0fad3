"""Self-report versus behaviour: questionnaire scales against SJT, game and text trait scores, and the MTMM matrix.

    python analyses/03_self_report_vs_behaviour.py runs/quickstart

One table of trait scores for every instrument (questionnaires, SJTs, games, probes), a subject being one
administration condition (model x persona x seed x repetition; paraphrases and option orders averaged), then
the Campbell-Fiske multitrait-multimethod matrix and the belief-behaviour consistency of the games.
"""

import sys

import psychometrika as pm

run = next((a for a in sys.argv[1:] if not a.startswith("--")), "runs/quickstart")
keep_invalid = "--keep-invalid" in sys.argv          # keep screened-out answers (not recommended)

df, manifest, instruments = pm.load_run(run)           # responses, manifest, the instruments they came from
screened = pm.screen_and_exclude(df, keep=keep_invalid)  # screen; invalid cells leave the trait statistics
print(screened.banner)                               # what was screened out and why
df = screened.responses
if df.empty:                                         # nothing valid is left (the banner says so): stop here
    sys.exit(0)
log = pm.WarningSummary()                            # warnings are recorded and summarised at the end, not hidden
with log:
    scores = pm.behaviour_scores(df, instruments)                      # instrument x scale x respondent, method column
    print(scores.groupby(["instrument", "method"])["score"].describe()[["count", "mean", "std"]].round(2))

    long = pm.mtmm_long(scores, instruments)                           # subject, trait, method, score
    if long.empty:
        print("no trait is measured by both a questionnaire and a behavioural measure in the screened answers")
    subject = [c for c in pm.CONDITION_COLUMNS if c in long.columns]
    for model, sub in long.groupby("model"):
        n_subjects = sub[subject].drop_duplicates().shape[0]
        print(f"\n=== MTMM ({model}): {n_subjects} subjects ===")
        if n_subjects < 3:
            print("fewer than 3 subjects (model x persona x seed x repetition): no correlations; add personas or seeds")
            continue
        print(pm.mtmm(sub, subject=subject, trait="trait", method="method", value="score").summary())

        # the convergent correlations: Fisher-z CIs, Holm-adjusted p over the table; constant scores and fewer
        # than 4 subjects are "not estimable" (no number); every p is over conditions of ONE model
        wide = sub.pivot_table(index=subject, columns=["trait", "method"], values="score")
        wide.columns = [f"{t}: {m}" for t, m in wide.columns]
        table = pm.cor_table(wide, one_model=True)
        same_trait = table[[x.split(":")[0] == y.split(":")[0] for x, y in zip(table["x"], table["y"])]]
        print("\nConvergent correlations (same trait, different methods):")
        print(same_trait.round(3).to_string(index=False))
        print(table.attrs["caveat"])

    games = df[df["instrument"] == "econ-games"]
    if len(games):
        print("\n=== belief-behaviour consistency (econ-games) ===")
        print(pm.belief_behaviour(df, instruments).round(2).to_string(index=False))
print("\n" + log.summary())
