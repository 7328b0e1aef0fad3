"""Parameters files for the simulated population backend (``backend: simulated``).

:func:`population_parameters` builds the known population of :mod:`psychometrika.backends.simulated` from
Likert instruments: one trait per scale; the loadings are the instrument's human norm loadings where it ships
them (``norms.loadings``, e.g. ``bfi-25``: the 5-factor pattern of 2,800 SAPA respondents) or ``loading`` on
the item's own scale, signed by its key, otherwise; the option texts are the response-format labels (original
order). :func:`write_parameters` writes that mapping as the JSON file a study names in
``models[].settings.parameters``. This module sits above the backends and the instruments (the backend itself
never imports instruments).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InstrumentError
from ..instruments import Instrument, load_instrument


def _instrument(ref: Instrument | str) -> Instrument:
    return ref if isinstance(ref, Instrument) else load_instrument(ref)


def population_parameters(instruments: Iterable[Instrument | str], *, loading: float = 0.7,
                          use_norms: bool = True, trait_cor: Sequence[Sequence[float]] | None = None,
                          personas: Mapping[str, Mapping[str, Any]] | None = None, sharpness: float = 4.0,
                          max_communality: float = 0.85) -> dict[str, Any]:
    """The parameters mapping of a simulated population answering ``instruments`` (Likert only).

    ``trait_cor`` defaults to the identity (traits are the scales, in order of first appearance);
    ``personas`` are the planted effects (``{persona-text substring: {shift|acquiescence|position_bias}}``).
    Loadings whose communality would exceed ``max_communality`` are scaled down to it.
    """
    refs = [_instrument(r) for r in instruments]
    traits: list[str] = []
    items: dict[str, Any] = {}
    for ins in refs:
        if ins.response_format.type != "likert":
            raise InstrumentError(f"{ins.id}: the simulated population answers Likert instruments only "
                                  f"(its response format is {ins.response_format.type})")
        norms = (ins.norms.loadings if use_norms and ins.norms is not None else None) or {}
        for item in ins.items:
            fmt = ins.format_of(item)
            scale = item.scale or next((s for s, its in ins.scale_items().items() if item.id in its), "")
            if item.id in norms:
                lam = {str(f): float(v) for f, v in norms[item.id].items()}
            else:
                lam = {scale: loading * item.keyed}
            for t in lam:
                if t not in traits:
                    traits.append(t)
            items[item.id if len(refs) <= 1 else f"{ins.id}:{item.id}"] = {
                "text": item.text, "loadings": lam, "options": list(fmt.labels), "scale": scale,
                "keyed": item.keyed}
    k = len(traits)
    cor = np.eye(k) if trait_cor is None else np.asarray(trait_cor, dtype=float)
    for spec in items.values():
        lam = np.array([spec["loadings"].get(t, 0.0) for t in traits])
        h2 = float(lam @ cor @ lam)
        if h2 > max_communality:
            spec["loadings"] = {t: v * (max_communality / h2) ** 0.5 for t, v in spec["loadings"].items()}
    return {"traits": traits, "trait_cor": cor.tolist(), "items": items, "sharpness": float(sharpness),
            "personas": {str(k): dict(v) for k, v in (personas or {}).items()}}


def write_parameters(path: str | Path, instruments: Iterable[Instrument | str], **kw: Any) -> dict[str, Any]:
    """Write :func:`population_parameters` to ``path`` (JSON) and return the mapping."""
    params = population_parameters(list(instruments), **kw)
    Path(path).write_text(json.dumps(params, indent=1))
    return params


def write_population_study(folder: str | Path, instrument: str = "bfi-25", *, n_people: int = 10,
                           planted: Mapping[str, Mapping[str, Any]] | None = None,
                           orders: Sequence[str] = ("original", "reversed"), seed: int = 5,
                           study_id: str = "simulated") -> Path:
    """Write a study of a simulated population into ``folder`` and return the study file.

    ``n_people`` ordinary respondents (personas ``p0``, ``p1``, ...) plus one persona per ``planted`` entry
    (persona id -> planted effects, e.g. ``{"first": {"position_bias": 40}, "yea": {"acquiescence": 1.2}}``);
    the parameters file ``population.json`` and ``personas.yaml`` are written next to ``study.yaml``.
    """
    folder = Path(folder)
    planted = dict(planted or {})
    params = folder / "population.json"
    write_parameters(params, [instrument], personas={f"({pid})": dict(eff) for pid, eff in planted.items()})
    people = [(f"p{i}", f"Respondent {i}.") for i in range(n_people)]
    people += [(pid, f"Respondent {k + 900} ({pid}).") for k, pid in enumerate(planted)]
    (folder / "personas.yaml").write_text("".join(f'- {{id: "{i}", text: "{t}"}}\n' for i, t in people))
    study = folder / "study.yaml"
    study.write_text(f"""id: {study_id}
instruments: [{instrument}]
models: [{{id: population, backend: simulated, settings: {{parameters: {params}, seed: {seed}}}}}]
personas: {{include_none: false, file: personas.yaml}}
paraphrases: {{instructions: 1}}
option_orders: [{", ".join(orders)}]
""")
    return study


__all__ = ["population_parameters", "write_parameters", "write_population_study"]
