"""Seaborn figures of the report, each shown with a caption, alt text and a sentence on how to read it.

All figures use seaborn's colour-blind-safe ``colorblind`` palette (categorical), ``cividis`` (sequential) or
``vlag`` (diverging, blue-white-red). :func:`show` embeds the PNG in the page (a ``data:`` URI: nothing is
fetched) inside a ``<figure>`` with the alt text and caption, both HTML-escaped.
"""

from __future__ import annotations

import base64
import html
import io
from typing import Any

import numpy as np
import pandas as pd

PALETTE = "colorblind"
DIVERGING = "vlag"
SEQUENTIAL = "cividis"


def setup() -> None:
    """Non-interactive backend, seaborn theme with the colour-blind palette."""
    import matplotlib

    matplotlib.use("Agg")
    import seaborn as sns

    sns.set_theme(style="whitegrid", palette=PALETTE, context="notebook", font_scale=0.95)
    matplotlib.rcParams.update({"figure.dpi": 100, "savefig.dpi": 110, "figure.autolayout": False,
                                "svg.hashsalt": "psychometrika", "axes.titlesize": 11})


def show(fig: Any, caption: str, alt: str, how_to_read: str = "") -> None:
    """Display a matplotlib figure as an accessible HTML figure and close it.

    ``fig`` may be a zero-argument function drawing the figure: if drawing fails, a visible warning (class
    ``pm-figure-error``, which the browser check reports) replaces the figure and the rest of the book builds.
    """
    import matplotlib.pyplot as plt
    from IPython.display import HTML, display

    if callable(fig) and not hasattr(fig, "savefig"):
        try:
            fig = fig()
        except Exception as exc:  # noqa: BLE001 - shown in the book, reported by the browser check
            plt.close("all")
            display(HTML(f"<div class=\"admonition warning pm-figure-error\"><p class=\"admonition-title\">Figure "
                         f"not drawn</p><p>{html.escape(caption)} — {html.escape(type(exc).__name__)}: "
                         f"{html.escape(str(exc))}</p></div>"))
            return
    buf = io.BytesIO()
    fig.savefig(buf, format="png", bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    data = base64.b64encode(buf.getvalue()).decode()
    read = (f"<p class=\"pm-how\"><strong>How to read it:</strong> {html.escape(how_to_read)}</p>"
            if how_to_read else "")
    display(HTML(f"<figure class=\"pm-figure\"><img src=\"data:image/png;base64,{data}\" "
                 f"alt=\"{html.escape(alt, quote=True)}\" style=\"max-width:100%;height:auto\"/>"
                 f"<figcaption>{html.escape(caption)}</figcaption></figure>{read}"))


def _facets(n: int, max_cols: int = 3) -> tuple[int, int]:
    cols = min(n, max_cols)
    return int(np.ceil(n / cols)), cols


# ----------------------------------------------------------------------------------------- quality
def status_bars(rates: pd.DataFrame) -> Any:
    """Stacked share of refused / unparseable / failed answers by model, persona and instrument."""
    import seaborn as sns

    long = rates.melt(id_vars=["model", "persona", "instrument"],
                      value_vars=["refused_rate", "unparseable_rate", "error_rate"], var_name="status",
                      value_name="share")
    long["status"] = long["status"].str.replace("_rate", "", regex=False)
    long["condition"] = long["instrument"] + " · " + long["persona"]
    g = sns.catplot(data=long, kind="bar", y="condition", x="share", hue="status", col="model", col_wrap=None,
                    height=max(2.5, 0.32 * long["condition"].nunique() + 1), aspect=1.4, palette=PALETTE,
                    errorbar=None)
    g.set_axis_labels("share of answers", "")
    g.set(xlim=(0, max(0.05, float(long["share"].max()) * 1.1)))
    return g.figure


#: Axis labels of the standardised mean differences, spelled as in the literature.
EFFECT_LABELS = {"d": "Cohen's d", "g": "Hedges' g"}


def all_positions(sub: pd.DataFrame, k: int) -> pd.DataFrame:
    """``sub`` (position, share, model) with every position 1..k of every model (share 0 where never chosen)."""
    models = sorted(sub["model"].unique(), key=str)
    full = pd.MultiIndex.from_product([models, range(1, int(k) + 1)], names=["model", "position"]).to_frame(index=False)
    got = sub.assign(position=sub["position"].astype(int))[["model", "position", "share"]]
    got = got.groupby(["model", "position"], as_index=False)["share"].sum()
    return full.merge(got, on=["model", "position"], how="left").fillna({"share": 0.0})


def position_bars(pc: pd.DataFrame) -> Any:
    """Share of answers per displayed option position, with the uniform share 1/k as a dashed line."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    groups = list(pc.groupby(["instrument", "n_options"], sort=True))
    rows, cols = _facets(len(groups))
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.0 * rows), squeeze=False)
    for ax, ((inst, k), sub) in zip(axes.flat, groups):
        sub = all_positions(sub, int(k))  # positions never chosen are shown as 0, not dropped
        sns.barplot(data=sub, x="position", y="share", hue="model", ax=ax, palette=PALETTE, errorbar=None,
                    order=list(range(1, int(k) + 1)))
        ax.axhline(1 / k, ls="--", color="0.3", lw=1)
        ax.set_title(f"{inst} ({k} options)")
        ax.set_xlabel("position shown (1 = first)")
        ax.set_ylabel("share chosen")
        if ax.get_legend() is not None and len(sub["model"].unique()) < 2:
            ax.get_legend().remove()
    for ax in list(axes.flat)[len(groups):]:
        ax.set_visible(False)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------- reliability
def reliability_ci(rel: pd.DataFrame) -> Any:
    """Alpha with its Feldt 95% CI per scale (rows) and model (colour); guides at .70 and .80."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = rel.dropna(subset=["alpha"]).copy()
    d["scale_label"] = d["instrument"] + " · " + d["scale_name"].astype(str)
    labels = list(dict.fromkeys(d["scale_label"]))
    models = list(dict.fromkeys(d["model"]))
    colors = dict(zip(models, sns.color_palette(PALETTE, len(models))))
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(labels) + 1.6))
    offs = np.linspace(-0.2, 0.2, len(models)) if len(models) > 1 else [0.0]
    left = -1.0       # alpha is unbounded below; values under -1 are drawn at the edge and labelled
    for off, m in zip(offs, models):
        s = d[d["model"] == m]
        y = np.array([labels.index(v) for v in s["scale_label"]]) + off
        a = s["alpha"].clip(lower=left)
        lo_ = s["alpha_lower"].clip(lower=left)
        hi_ = s["alpha_upper"].clip(lower=left)
        ax.errorbar(a, y, xerr=[a - lo_, hi_ - a], fmt="o", color=colors[m], label=m, capsize=3)
        for yy, val in zip(y, s["alpha"]):
            if val < left:
                ax.annotate(f"◄ {val:.2f}", (left, yy), xytext=(4, 4), textcoords="offset points", fontsize=8,
                            color=colors[m])
    for v in (0.7, 0.8):
        ax.axvline(v, ls=":", color="0.4", lw=1)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.set_yticks(range(len(labels)), labels)
    ax.invert_yaxis()
    ax.set_xlabel("Cronbach's alpha (95% Feldt CI)")
    lo = float(np.nanmin(d["alpha_lower"])) if len(d) else 0
    ax.set_xlim(max(left - 0.05, min(-0.1, lo - 0.05)), 1.0)
    if len(models) > 1:
        ax.legend(title="model", loc="lower left")
    fig.tight_layout()
    return fig


def norms_plot(desc: pd.DataFrame) -> Any:
    """Model scale means ± SD next to the human norm mean ± SD."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = desc.dropna(subset=["human_mean"]).copy()
    d["scale_label"] = d["instrument"] + " · " + d["scale_name"].astype(str)
    labels = list(dict.fromkeys(d["scale_label"]))
    models = list(dict.fromkeys(d["model"]))
    pal = sns.color_palette(PALETTE, len(models) + 1)
    fig, ax = plt.subplots(figsize=(7.5, 0.45 * len(labels) + 1.6))
    hum = d.drop_duplicates("scale_label")
    y = np.arange(len(labels))
    ax.errorbar(hum["human_mean"], [labels.index(v) - 0.2 for v in hum["scale_label"]], xerr=hum["human_sd"],
                fmt="s", color="0.25", capsize=3, label="human norm")
    for k, m in enumerate(models):
        s = d[d["model"] == m]
        ax.errorbar(s["mean"], [labels.index(v) + 0.2 - 0.1 * k for v in s["scale_label"]], xerr=s["sd"], fmt="o",
                    color=pal[k], capsize=3, label=m)
    ax.set_yticks(y, labels)
    ax.invert_yaxis()
    ax.set_xlabel("scale score (mean ± SD)")
    ax.legend(loc="best")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------- factor structure
def scree(par: pd.DataFrame, title: str) -> Any:
    """Observed and simulated eigenvalues (factors and components) against their number."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    long = par.melt(id_vars=["factor"], value_vars=["fa_observed", "fa_simulated", "pc_observed", "pc_simulated"],
                    var_name="series", value_name="eigenvalue")
    long["solution"] = np.where(long["series"].str.startswith("fa"), "factors", "components")
    long["data"] = np.where(long["series"].str.endswith("observed"), "observed", "simulated")
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    sns.lineplot(data=long, x="factor", y="eigenvalue", hue="solution", style="data", markers=True, dashes=True,
                 palette=PALETTE, ax=ax)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.set_xlabel("factor / component number")
    ax.set_title(title)
    fig.tight_layout()
    return fig


def loading_heatmap(loads: pd.DataFrame, title: str) -> Any:
    """Items (rows, grouped by intended scale) x EFA factors, loadings coloured from -1 (blue) to +1 (red)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    order = list(dict.fromkeys(loads.sort_values(["intended"], kind="stable")["item"]))
    m = loads.pivot(index="item", columns="factor", values="loading").reindex(order)
    lab = loads.drop_duplicates("item").set_index("item")["intended"].reindex(order).fillna("")
    m.index = [f"{i} ({s})" if s else str(i) for i, s in zip(m.index, lab)]
    fig, ax = plt.subplots(figsize=(1.1 * m.shape[1] + 3.2, 0.24 * m.shape[0] + 1.6))
    sns.heatmap(m, cmap=DIVERGING, vmin=-1, vmax=1, center=0, annot=m.shape[0] <= 30, fmt=".2f",
                annot_kws={"size": 7}, cbar_kws={"label": "loading"}, ax=ax, linewidths=0.3, linecolor="white")
    ax.set_xlabel("factor (oblimin)")
    ax.set_ylabel("item (intended scale)")
    ax.set_title(title)
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------- behaviour
def matrix_heatmap(m: pd.DataFrame, title: str, label: str = "r") -> Any:
    """A correlation-like matrix as an annotated heatmap (-1 blue, +1 red)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    fig, ax = plt.subplots(figsize=(0.65 * m.shape[1] + 3.2, 0.5 * m.shape[0] + 1.6))
    sns.heatmap(m.astype(float), cmap=DIVERGING, vmin=-1, vmax=1, center=0, annot=max(m.shape) <= 16, fmt=".2f",
                annot_kws={"size": 7}, cbar_kws={"label": label}, ax=ax, linewidths=0.3, linecolor="white")
    ax.set_title(title)
    ax.set_xlabel("")
    ax.set_ylabel("")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------- effect sizes
def means_plot(means: pd.DataFrame) -> Any:
    """Mean scale score per persona (colour) for each scale: one row of panels per instrument, each on that
    instrument's own score range (Likert 1-5, SJT -1..1 and games 0-10 never share an axis), one column per model."""
    import seaborn as sns

    d = means.copy()
    d["scale"] = d["scale"].astype(str)
    dodge = 0.4 if d["persona"].nunique() > 1 else False
    most_scales = int(d.groupby("instrument")["scale"].nunique().max())
    g = sns.catplot(data=d, kind="point", y="scale", x="mean", hue="persona", row="instrument", col="model",
                    sharex="row", sharey=False, palette=PALETTE, linestyle="none", dodge=dodge,
                    height=max(2.2, 0.3 * most_scales + 1.2), aspect=1.6, errorbar=None, markers="o")
    g.set_axis_labels("mean scale score (the instrument's own scale)", "")
    g.set_titles(row_template="{row_name}", col_template="{col_name}")
    return g.figure


def forest(eff: pd.DataFrame, title: str, est: str = "d") -> Any:
    """Forest plot: one row per comparison, the effect size with its 95% CI, a line at zero."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    lo, hi = f"{est}_ci_low", f"{est}_ci_high"
    d = eff.dropna(subset=[est]).copy()
    d["label"] = (d["instrument"] + " · " + d["scale"].astype(str) + ": " + d["group2"].astype(str) + " vs "
                  + d["group1"].astype(str))
    comps = list(dict.fromkeys(d["group2"].astype(str) + " vs " + d["group1"].astype(str)))
    pal = dict(zip(comps, sns.color_palette(PALETTE, len(comps))))
    fig, ax = plt.subplots(figsize=(7.5, 0.3 * len(d) + 1.6))
    y = np.arange(len(d))
    for comp in comps:
        sel = (d["group2"].astype(str) + " vs " + d["group1"].astype(str)) == comp
        s = d[sel]
        yy = y[sel.to_numpy()]
        err = None
        if lo in s and hi in s:
            err = [np.abs(s[est] - s[lo]).fillna(0), np.abs(s[hi] - s[est]).fillna(0)]
        ax.errorbar(s[est], yy, xerr=err, fmt="o", color=pal[comp], capsize=2, label=comp)
    ax.axvline(0, color="0.3", lw=1)
    ax.set_yticks(y, d["label"], fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel(f"{EFFECT_LABELS.get(est, est)} (95% CI)")
    ax.set_title(title)
    if len(comps) > 1:
        ax.legend(fontsize=8, loc="best")
    fig.tight_layout()
    return fig


# ----------------------------------------------------------------------------------------- G study
def variance_bars(comp: pd.DataFrame, value: str, label: str) -> Any:
    """Share of variance per facet (stacked horizontal bars), one bar per scale."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    d = comp.copy()
    d["scale_label"] = d["instrument"] + " · " + d["scale"].astype(str) + " (" + d["model"].astype(str) + ")"
    wide = d.pivot_table(index="scale_label", columns=label, values=value, aggfunc="sum").fillna(0)
    wide = wide.div(wide.sum(axis=1), axis=0)
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(wide) + 1.8))
    left = np.zeros(len(wide))
    base = sns.color_palette(PALETTE, 10)  # the 10 colour-blind-safe colours; beyond them a hatch tells apart
    hatches = ["", "///", "...", "xxx", "\\\\\\"]
    for k, col in enumerate(wide.columns):
        ax.barh(wide.index, wide[col], left=left, color=base[k % 10], hatch=hatches[(k // 10) % len(hatches)],
                edgecolor="white", linewidth=0.4, label=str(col))
        left += wide[col].to_numpy()
    ax.set_xlim(0, 1)
    ax.invert_yaxis()
    ax.set_xlabel("share of total variance")
    ax.legend(title="source", bbox_to_anchor=(1.02, 1), loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig


__all__ = ["forest", "loading_heatmap", "matrix_heatmap", "means_plot", "norms_plot", "position_bars",
           "reliability_ci", "scree", "setup", "show", "status_bars", "variance_bars"]
