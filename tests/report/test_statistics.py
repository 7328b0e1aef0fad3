"""The statistics behind the report, checked against hand computations on a simulated run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps
from _reportlib import REPO

import psychometrika as pm
from psychometrika.report.statistics import (
    ReportStatistics,
    compute_statistics,
    data_hash,
    diff_statistics,
    flatten_statistics,
    read_statistics,
    write_statistics,
)

RESP = ["model", "persona", "instruction_id", "stem_id", "order_id", "label_scheme", "seed", "repetition"]


def _keyed_wide(df: pd.DataFrame, items: list[str], reverse: set[str]) -> pd.DataFrame:
    sub = df[(df["instrument"] == "report-mini") & df["item"].isin(items)].copy()
    sub["x"] = np.where(sub["item"].isin(reverse), 6 - sub["expected_value"], sub["expected_value"])
    return sub.pivot_table(index=RESP, columns="item", values="x")


def test_alpha_and_feldt_ci_equal_the_textbook_formula(sim_run, sim_stats):
    df = pm.read_run(sim_run)
    w = _keyed_wide(df, ["e1", "e2", "e3", "e4"], {"e2"})
    n, k = w.shape
    alpha = k / (k - 1) * (1 - w.var(ddof=1).sum() / w.sum(axis=1).var(ddof=1))
    lo = 1 - (1 - alpha) * sps.f.ppf(0.975, n - 1, (n - 1) * (k - 1))
    hi = 1 - (1 - alpha) * sps.f.ppf(0.025, n - 1, (n - 1) * (k - 1))
    row = sim_stats["reliability"].set_index(["instrument", "scale", "model"]).loc[("report-mini", "E", "sim")]
    assert (row["n"], row["items"]) == (30, 4)
    assert row["alpha"] == pytest.approx(alpha, abs=1e-10)
    assert row["alpha_lower"] == pytest.approx(lo, abs=1e-10)
    assert row["alpha_upper"] == pytest.approx(hi, abs=1e-10)
    # item statistics: corrected item-total correlation of e1 by hand
    rest = w[["e2", "e3", "e4"]].sum(axis=1)
    items = sim_stats["item_stats"]
    e1 = items[(items["instrument"] == "report-mini") & (items["scale"] == "E") & (items["item"] == "e1")].iloc[0]
    assert e1["r_drop"] == pytest.approx(np.corrcoef(w["e1"], rest)[0, 1], abs=1e-10)
    assert e1["mean"] == pytest.approx(w["e1"].mean(), abs=1e-12)


def test_scale_scores_cell_counts_and_norms(sim_run, sim_stats):
    df = pm.read_run(sim_run)
    counts = sim_stats["cell_counts"].set_index(["instrument", "persona"])
    # items x instruction wordings x option orders (5 cyclic orders of 5 Likert options, 3 of 3 SJT options)
    assert counts.loc[("report-mini", "warm"), "responses"] == 8 * 2 * 5
    assert counts.loc[("report-sjt", "none"), "responses"] == 3 * 2 * 3
    assert counts.loc[("report-mini", "cold"), "respondents"] == 10
    w = _keyed_wide(df, ["a1", "a2", "a3", "a4"], {"a2", "a4"})
    sc = sim_stats["scale_scores"]
    a = sc[(sc["instrument"] == "report-mini") & (sc["scale"] == "A")].set_index(RESP)["score"]
    assert np.allclose(a.loc[w.index].to_numpy(), w.mean(axis=1).to_numpy(), atol=1e-12)
    desc = sim_stats["scale_descriptives"].set_index(["instrument", "scale"])
    assert desc.loc[("report-mini", "E"), "human_mean"] == 3.2
    assert desc.loc[("report-mini", "A"), "human_sd"] == 0.6
    assert desc.loc[("report-mini", "A"), "mean"] == pytest.approx(w.mean(axis=1).mean(), abs=1e-12)
    assert np.isnan(desc.loc[("report-sjt", "E"), "human_mean"])


def test_planted_position_bias_shows_in_position_counts(sim_stats):
    pc = sim_stats["position_counts"]
    shares = pc.groupby(["instrument", "n_options"])["share"].sum()
    assert np.allclose(shares.to_numpy(), 1.0)
    for inst, k in (("report-mini", 5), ("report-sjt", 3)):
        sub = pc[pc["instrument"] == inst].set_index("position")["share"]
        # the dummy backend adds +1.5 log-odds to the first displayed option
        assert sub.idxmax() == 1 and sub.loc[1] > 1 / k + 0.1, sub
    rates = sim_stats["status_rates"]
    assert (rates["ok_rate"] == 1.0).all() and rates["n"].sum() == 3 * (80 + 18)


def test_factor_tables_use_human_loadings_or_the_scoring_key(sim_stats):
    loads = sim_stats["efa_loadings"]
    mini = loads[loads["instrument"] == "report-mini"]
    assert len(mini) == 8 * 2 and set(mini["intended"]) == {"E", "A"}
    par = sim_stats["parallel"]
    assert len(par[par["instrument"] == "report-mini"]) == 8
    cs = sim_stats["congruence_summary"]
    assert set(cs["target"]) == {"human loadings (invented test values)"}
    assert cs["phi"].abs().le(1 + 1e-12).all()
    # Tucker's phi by hand for the best-matching factor of target E
    row = cs[cs["target_factor"] == "E"].iloc[0]
    x = mini[mini["factor"] == row["best_efa_factor"]].set_index("item")["loading"]
    y = pd.Series({"e1": .7, "e2": -.6, "e3": .6, "e4": .4, "a1": .1, "a2": 0, "a3": .2, "a4": 0}).loc[x.index]
    assert row["phi"] == pytest.approx((x * y).sum() / np.sqrt((x ** 2).sum() * (y ** 2).sum()), abs=1e-10)


def test_a_changed_statistics_signature_or_result_fails_the_build(sim_run, monkeypatch):
    """The sections call the statistics directly: a renamed argument or result column is an error, not a
    silently missing table."""
    import psychometrika.report.sections.behaviour as behaviour
    import psychometrika.report.sections.reliability as reliability

    def alpha_renamed(x, keys=None, iterations=1000):  # n_iter renamed
        return pm.alpha(x, keys, n_iter=iterations)

    monkeypatch.setattr(reliability, "alpha", alpha_renamed)
    with pytest.raises(TypeError, match="n_iter"):
        compute_statistics(sim_run, sections=["reliability"], keep_invalid=True)
    monkeypatch.undo()
    monkeypatch.setattr(behaviour, "cor_ci", lambda x, y: pm.cor_ci(x, y).rename(columns={"CI_low": "lo"}))
    with pytest.raises(KeyError, match="CI_low"):
        compute_statistics(sim_run, sections=["behaviour"], keep_invalid=True)


def test_data_problems_become_notes_in_plain_words(sim_run, monkeypatch):
    import psychometrika.report.sections.factor as factor
    import psychometrika.report.sections.reliability as reliability

    def no_split_half(*_a, **_k):
        raise pm.DataError("split-half reliability needs more respondents")

    def singular(*_a, **_k):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(reliability, "split_half", no_split_half)
    monkeypatch.setattr(factor, "fa", singular)
    st = compute_statistics(sim_run, sections=["reliability", "factor"])
    assert "report-mini E (sim): split half: not computed (split-half reliability needs more respondents)." \
        in st.notes["reliability"]
    assert any(n.startswith("report-mini (sim): EFA: not computed (a correlation or covariance matrix of these "
                            "answers is singular") for n in st.notes["factor"])
    assert st["reliability"]["split_half_mean"].isna().all() and st["reliability"]["alpha"].notna().all()
    assert st["efa_loadings"].empty


def test_position_only_answers_give_no_reliability_artefacts(tmp_path):
    """Every answer the first displayed option (original and reversed orders): α and ω are undefined and said to
    be, in words (no exception names), instead of ω_t = 1 or split-half values of -1e16."""
    from _reportlib import study_text

    from psychometrika.engine.run import run_study

    study = tmp_path / "study.yaml"
    study.write_text(study_text("{id: sim, backend: dummy, model: sim, settings: {position_bias: 60}}",
                                "{include_none: true}", orders="[original, reversed]"))
    run_study(study, tmp_path / "run", progress=False)
    st = compute_statistics(tmp_path / "run", sections=["reliability"], keep_invalid=True)
    rel = st["reliability"]
    assert len(rel) == 4 and rel[["alpha", "omega_t", "split_half_mean", "beta"]].isna().all().all()
    notes = st.notes["reliability"]
    assert len([n for n in notes if "reliability is undefined" in n]) == 4
    assert not any("Error" in n or "division" in n for n in notes)


def test_data_hash_detects_a_single_changed_answer(sim_run):
    df = pm.read_run(sim_run)
    h = data_hash(df)
    assert h == data_hash(df.sample(frac=1.0, random_state=3))       # row order does not matter
    changed = df.copy()
    changed.loc[5, "expected_value"] = changed.loc[5, "expected_value"] + 1e-9
    assert data_hash(changed) != h


def test_flatten_diff_and_csv_roundtrip(sim_stats, tmp_path):
    flat = flatten_statistics(sim_stats)
    assert set(flat["table"]) >= {"reliability", "item_stats", "efa_loadings", "cell_counts"}
    assert not flat.duplicated(["table", "row", "column"]).any()
    same = diff_statistics(flat, flat)
    assert (same["status"] == "same").all()
    bumped = flat.copy()
    i = bumped.index[(bumped["table"] == "reliability") & (bumped["column"] == "alpha") & bumped["value"].notna()][0]
    bumped.loc[i, "value"] += 0.25
    d = diff_statistics(flat, bumped)
    bad = d[d["status"] != "same"]
    assert len(bad) == 1 and bad["abs_diff"].iloc[0] == pytest.approx(0.25)
    assert (diff_statistics(flat, bumped, tol=0.3)["status"] == "same").all()
    dropped = diff_statistics(flat, flat.drop(index=i))
    assert list(dropped.loc[dropped["status"] != "same", "status"]) == ["only in original"]
    back = read_statistics(write_statistics(sim_stats, tmp_path / "data"))
    assert isinstance(back, ReportStatistics)
    assert (diff_statistics(flat, flatten_statistics(back))["status"] == "same").all()
    assert (tmp_path / "data" / "statistics.csv").exists()


def test_unknown_section_is_an_error(sim_run):
    with pytest.raises(pm.PsychometrikaError, match="unknown report section"):
        compute_statistics(sim_run, sections=["nope"])


def test_comparability_tables_come_from_the_run(sim_run, sim_stats):
    inv = sim_stats["invariance"]
    assert set(inv["level"]) == {"configural", "metric", "scalar", "strict"}
    e = inv[(inv["instrument"] == "report-mini") & (inv["scale"] == "E")].set_index("level")
    assert set(e["group_by"]) == {"persona"} and int(e["groups"].iloc[0]) == 3
    # recomputed here from the stored answers: keyed expected scores, one row per respondent
    df = pm.read_run(sim_run)
    ins = pm.load_instrument(str(REPO / "tests" / "report" / "data" / "report-mini.yaml"))
    scored = pm.item_scores(df[df["instrument"] == "report-mini"], {"report-mini": ins}, source="expected")
    items = [it.id for it in ins.items if it.scale == "E"]
    resp = [c for c in ("model", "persona", "instruction_id", "stem_id", "order_id", "label_scheme", "seed",
                        "repetition") if c in scored]
    wide = scored[scored["item"].isin(items)].pivot_table(index=resp, columns="item", values="score").dropna()
    data = wide[items].reset_index()[["persona", *items]].rename(columns={i: f"v{k + 1}" for k, i in enumerate(items)})
    mi = pm.invariance("F =~ " + " + ".join(f"v{k + 1}" for k in range(len(items))), data, "persona")
    ref = mi.table.set_index("level")
    assert np.allclose(e["chisq"].astype(float), ref.loc[e.index, "chisq"], atol=1e-8)
    assert list(e["df"].astype(int)) == list(ref.loc[e.index, "df"])
    dif = sim_stats["dif"]
    assert set(dif["group_by"]) == {"order_id", "instruction_id"} and dif["item"].notna().all()
    styles = sim_stats["response_styles"]
    assert set(styles["persona"]) == {"none", "warm", "cold"} and styles["acquiescence"].notna().all()
    plan = sim_stats["d_study_plan"]
    assert (plan.loc[plan["reached"].astype(bool), "g_planned"] >= 0.8).all()


def test_every_section_has_its_module_in_book_order():
    from psychometrika.report.results import SECTIONS
    from psychometrika.report.sections import COMPUTE

    assert tuple(COMPUTE) == SECTIONS
    assert all(fn.__module__ == f"psychometrika.report.sections.{name}" for name, fn in COMPUTE.items())


def test_quickstart_design_with_position_only_answers_builds_and_games_count_as_behaviour(tmp_path):
    """The quickstart's instruments answered by position alone (as the embedded model does): every section is
    computed without a foreign exception, and the economic games are behaviour (as in pm.behaviour_scores)."""
    from psychometrika.engine.run import run_study

    text = (REPO / "analyses" / "quickstart.yaml").read_text()
    models = text[text.index("models:"):text.index("personas:")]
    study = tmp_path / "study.yaml"
    study.write_text(text.replace(models, "models: [{id: sim, backend: dummy, model: sim, "
                                          "settings: {position_bias: 60}}]\n"))
    run_study(study, tmp_path / "run", progress=False)
    screened = compute_statistics(tmp_path / "run", sections=["study", "reliability", "personas"])
    assert "bfi-44" not in set(screened["reliability"]["instrument"])  # position-only answers: withheld
    assert "shaping_validity" not in screened  # and so is the shaping analysis of the quickstart's population
    assert any(n.startswith("Shaping validity withheld for bfi-44") for n in screened.notes["personas"])
    assert "bfi-44 (sim): 13 of 13 persona cells invalid" in screened.notes["study"][0]
    st = compute_statistics(tmp_path / "run", keep_invalid=True)  # kept: the guards of each statistic
    sv = st["shaping_validity"]
    assert set(sv.loc[sv["instrument"] == "bfi-44", "trait"]) == {"extraversion", "agreeableness"}
    assert {"econ-games:TRUST", "sjt-core:A"} <= set(st["self_behaviour"]["behaviour"])
    assert not set(st["self_behaviour"]["questionnaire"].str.split(":").str[0]) - {"bfi-44", "sd3"}
    sb = st["self_behaviour"]
    assert sb["p"].notna().sum() >= 2
    for _, g in sb.groupby("model"):  # Holm over each model's table, as R's p.adjust(p, "holm")
        assert np.allclose(g["p_holm"], pm.holm(g["p"].tolist()), equal_nan=True)
        assert (g["p_holm"].dropna() >= g.loc[g["p_holm"].notna(), "p"]).all()
    rel = st["reliability"]
    assert rel.loc[rel["instrument"] == "bfi-44", "alpha"].isna().all()
    assert any("bfi-44 A (sim): not computed (" in n and "reliability is undefined" in n
               for n in st.notes["reliability"])
    assert "response_styles" in st


def test_the_unit_of_analysis_names_the_persona_population(sim_stats):
    from psychometrika.report.sections.study import respondents, unit_of_analysis

    r = sim_stats["respondents"].set_index(["model", "instrument"]).loc[("sim", "report-mini")]
    assert (r["personas"], r["shaped"], bool(r["no_persona"])) == (2, 0, True)
    rel = sim_stats["reliability"].set_index(["instrument", "scale", "model"]).loc[("report-mini", "E", "sim")]
    assert r["respondents"] == 3 * r["conditions_per_persona"] == rel["n"] == 30
    assert unit_of_analysis(sim_stats["respondents"]).startswith(
        "The respondents are a population of 2 persona(s) plus the no-persona condition, each answering under ")
    # a shaped population: 2 shaped and 1 bank persona, no no-persona condition; a questionnaire in two orders x
    # two seeds, a game in one order
    rows = [{"model": m, "instrument": "q", "persona": p, "order_id": o, "seed": s, "item": "i1",
             "persona_shaping_design": "single" if p in ("s1", "s2") else None}
            for m in ("a", "b") for p in ("s1", "s2", "bank1") for o in ("x", "y") for s in (1, 2)]
    rows += [{**r, "instrument": "game", "order_id": "original"} for r in rows if r["order_id"] == "x"]
    tab = respondents(pd.DataFrame(rows), ["persona", "order_id", "seed"])
    assert tab.set_index(["model", "instrument"]).loc[("a", "q")].to_dict() == {
        "personas": 3, "shaped": 2, "no_persona": False, "conditions_per_persona": 4, "respondents": 12}
    assert tab.set_index(["model", "instrument"]).loc[("a", "game"), "conditions_per_persona"] == 2
    assert unit_of_analysis(tab) == (
        "The respondents are a population of 3 persona(s) (2 trait-shaped, 1 other), each answering under 2-4 "
        "administration condition(s) (instruction wording x option order x labels x seed; the number depends on "
        "the instrument): 6-12 respondents per model and instrument, all of them conditions of the same model; "
        "there are 2 independent model(s).")
