"""A simulated population with known truth (``backend: simulated``): ground truth for the whole pipeline.

Every persona is one simulated *person*: its latent traits are drawn from a known multivariate normal, and its
answers follow a graded response model with known item parameters. Running a study on this backend and
computing reliabilities, factor solutions or effect sizes therefore tests the engine → store → scoring →
statistics path against numbers that are known in advance (:func:`simulate` draws a fresh sample of the same
population directly, for population values).

The model
---------
For persona ``i`` (identified by its system message, i.e. the persona text) and item ``j``:

* ``θ_i ~ N(0, Φ)`` over the traits (``traits``, ``trait_cor``), drawn from a generator seeded by the sha256 of
  the persona text and the backend's ``seed`` (the same persona always has the same traits);
* a stable person × item part ``u_ij ~ N(0, ψ_j)`` with ``ψ_j = 1 − λ_j'Φλ_j`` (seeded by persona text and
  item id), so that the latent response ``y*_ij = λ_j'θ_i + u_ij`` has variance 1 (a standardised common-factor
  model with loadings ``λ_j``);
* category probabilities of the graded response model on ``y*``: ``P(Y ≥ k) = σ(a·(y*_ij + γ_i − τ_k))`` for
  the ordered categories ``k = 1..K−1`` (original option order, lowest first), with discrimination ``a``
  (``sharpness``), thresholds ``τ`` (``thresholds``) and acquiescence shift ``γ_i`` (0 unless planted);
* ``position_bias`` adds that many log-odds to the first *displayed* option (a primacy bias); a large value
  makes a position-only responder.

Score mode returns the log-probabilities of the displayed options (times ``label_mass``, the probability left
on the labels); generate mode draws one category from them (seeded by the request) and writes its label.

How the backend knows the item and the options (layering)
---------------------------------------------------------
A backend knows nothing of instruments or the study design. The study names a *parameters file* (JSON) in the
model's settings, ``settings: {parameters: sim.json}``; :func:`psychometrika.tools.simulate.write_parameters`
writes one from instruments. The file says::

    {"traits": ["E", "N"], "trait_cor": [[1, .2], [.2, 1]],
     "items": {"E1": {"text": "am the life of the party", "loadings": {"E": 0.7},
                      "options": ["Disagree", ..., "Agree"]}, ...},
     "sharpness": 4.0, "thresholds": [-1.2, -0.4, 0.4, 1.2],          # optional (K−1 values)
     "personas": {"cold": {"shift": {"A": -0.8}}, "always first": {"position_bias": 40},
                  "yes-sayer": {"acquiescence": 1.5}}}                 # optional planted effects

The item of a prompt is the item whose ``text`` occurs in the last user message (the longest such text); its
options are found as the lines of that message that read ``<label>. <option text>`` or ``- <option text>``
(the shipped prompt format), in the order shown, which gives the display order of the continuations. A
``personas`` entry applies to every persona whose text contains its key (``shift`` adds to the trait means,
``acquiescence`` is ``γ``, ``position_bias`` and ``label_mass`` override the backend's settings). A prompt
whose item or options cannot be found fails (``error``), is never stored, and the message names what was
missing.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError
from .base import GenerateRequest, GenerateResult, Message, ModelInfo, ScoreRequest, ScoreResult

_OPTION_LINE = re.compile(r"^\s*(?:(?P<label>[^\s.]+)\.\s+|-\s+)(?P<text>.+?)\s*$")


def _seed_of(*parts: Any) -> int:
    h = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()
    return int(h[:16], 16)


@dataclass(frozen=True)
class SimItem:
    """One item of the simulated population."""

    id: str
    text: str
    loadings: np.ndarray  # over the population's traits
    options: tuple[str, ...]
    uniqueness: float


class Population:
    """The known population of a parameters mapping (see the module docstring); shared by the backend and
    :func:`simulate`."""

    def __init__(self, params: Mapping[str, Any], seed: int = 0) -> None:
        try:
            self.traits = [str(t) for t in params["traits"]]
            items = params["items"]
        except (KeyError, TypeError) as exc:
            raise BackendError(f"simulated backend: the parameters need 'traits' and 'items' ({exc})") from exc
        k = len(self.traits)
        self.cor = np.asarray(params.get("trait_cor", np.eye(k)), dtype=float)
        if self.cor.shape != (k, k) or not np.allclose(self.cor, self.cor.T):
            raise BackendError(f"simulated backend: trait_cor must be a symmetric {k} x {k} matrix")
        try:
            self.chol = np.linalg.cholesky(self.cor)
        except np.linalg.LinAlgError as exc:
            raise BackendError("simulated backend: trait_cor is not positive definite") from exc
        self.seed = int(seed)
        self.sharpness = float(params.get("sharpness", 4.0))
        self.thresholds = params.get("thresholds")
        self.personas: dict[str, dict[str, Any]] = dict(params.get("personas") or {})
        self.items: dict[str, SimItem] = {}
        for iid, spec in items.items():
            lam = np.array([float(spec.get("loadings", {}).get(t, 0.0)) for t in self.traits])
            common = float(lam @ self.cor @ lam)
            if common >= 1:
                raise BackendError(f"simulated backend: item {iid!r} has communality {common:.2f} >= 1")
            options = tuple(str(o) for o in spec["options"])
            if len(options) < 2:
                raise BackendError(f"simulated backend: item {iid!r} needs at least 2 options")
            self.items[str(iid)] = SimItem(str(iid), str(spec["text"]), lam, options, 1.0 - common)
        # longest texts first, so that an item whose text contains another's is found first
        self._by_length = sorted(self.items.values(), key=lambda it: -len(it.text))

    # ------------------------------------------------------------------ the model
    def _taus(self, k: int) -> np.ndarray:
        if self.thresholds is not None:
            t = np.asarray(self.thresholds, dtype=float)
            if t.size != k - 1 or np.any(np.diff(t) <= 0):
                raise BackendError(f"simulated backend: thresholds must be {k - 1} increasing values")
            return t
        return np.linspace(-1.5, 1.5, k - 1)  # symmetric categories on the standardised latent response

    def style(self, persona_text: str) -> dict[str, Any]:
        """The planted effects that apply to a persona (merged over every matching ``personas`` key)."""
        out: dict[str, Any] = {"shift": {}}
        for key, spec in self.personas.items():
            if key and key in persona_text:
                out["shift"] = {**out["shift"], **(spec.get("shift") or {})}
                out.update({k: v for k, v in spec.items() if k != "shift"})
        return out

    def theta(self, persona_text: str, style: Mapping[str, Any] | None = None) -> np.ndarray:
        """The persona's latent traits (a fixed draw from N(0, Φ), plus any planted shift)."""
        rng = np.random.default_rng(_seed_of("theta", persona_text, self.seed))
        th = self.chol @ rng.standard_normal(len(self.traits))
        for t, v in ((style or {}).get("shift") or {}).items():
            if t not in self.traits:
                raise BackendError(f"simulated backend: shift names unknown trait {t!r}")
            th[self.traits.index(t)] += float(v)
        return th

    def unique(self, persona_text: str, item: SimItem) -> float:
        rng = np.random.default_rng(_seed_of("unique", persona_text, item.id, self.seed))
        return float(rng.standard_normal() * math.sqrt(item.uniqueness))

    def grm(self, item: SimItem, ystar: np.ndarray) -> np.ndarray:
        """GRM category probabilities (original option order; rows = latent responses ``ystar``)."""
        y = np.atleast_1d(np.asarray(ystar, dtype=float))
        taus = self._taus(len(item.options))
        above = 1.0 / (1.0 + np.exp(-self.sharpness * (y[:, None] - taus[None, :])))  # P(Y >= k), k = 2..K
        ones = np.ones((len(y), 1))
        cum = np.hstack([ones, above, 0 * ones])
        return np.clip(cum[:, :-1] - cum[:, 1:], 1e-12, None)

    def category_probs(self, item: SimItem, theta: np.ndarray, u: float, acquiescence: float = 0.0) -> np.ndarray:
        """GRM category probabilities of one respondent with traits ``theta`` and unique part ``u``."""
        return self.grm(item, np.array([float(item.loadings @ theta) + u + acquiescence]))[0]

    def find_item(self, text: str) -> SimItem | None:
        for it in self._by_length:
            if it.text and it.text in text:
                return it
        return None


def display_options(text: str, item: SimItem) -> tuple[list[int], list[str]]:
    """(original option index, label) of each option line of ``text`` in the order shown."""
    index = {o.strip(): i for i, o in enumerate(item.options)}
    order, labels = [], []
    for line in text.splitlines():
        m = _OPTION_LINE.match(line)
        if m and m.group("text").strip() in index:
            order.append(index[m.group("text").strip()])
            labels.append(m.group("label") or m.group("text").strip())
    return order, labels


class SimulatedBackend:
    """A simulated population of respondents with known traits and item parameters (module docstring)."""

    name = "simulated"

    def __init__(self, model: str | None = None, *, parameters: str | Mapping[str, Any] | None = None,
                 seed: int = 0, position_bias: float = 0.0, label_mass: float = 1.0, delay_s: float = 0.0) -> None:
        if parameters is None:
            raise BackendError("backend 'simulated' needs settings: {parameters: <file.json>} (the population: "
                               "traits, trait_cor, items with text, loadings and options); write one with "
                               "psychometrika.tools.simulate.write_parameters")
        if isinstance(parameters, Mapping):
            params, ident = dict(parameters), json.dumps(parameters, sort_keys=True, default=str)
        else:
            path = Path(parameters)
            try:
                ident = path.read_text()
                params = json.loads(ident)
            except (OSError, json.JSONDecodeError) as exc:
                raise BackendError(f"{path}: simulated backend parameters file: {exc}") from exc
        if not 0 < float(label_mass) <= 1:
            raise BackendError("simulated backend: label_mass must be in (0, 1]")
        self.population = Population(params, seed=seed)
        self.position_bias = float(position_bias)
        self.label_mass = float(label_mass)
        self.delay_s = float(delay_s)
        digest = hashlib.sha256((ident + f"|{seed}|{position_bias}|{label_mass}").encode()).hexdigest()
        self.info = ModelInfo(model_id=model or "simulated", backend="simulated", weights_sha256=digest,
                              dtype="", device="cpu", extra={"simulated": True})

    # ------------------------------------------------------------------ one prompt
    def _answer(self, messages: Sequence[Message], n_cont: int | None) -> tuple[np.ndarray, list[str]] | str:
        """(display-order log-probabilities, display labels), or an error message."""
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next((m["content"] for m in reversed(messages) if m["role"] == "user"), "")
        pop = self.population
        item = pop.find_item(user)
        if item is None:
            return "simulated backend: no item of the parameters file occurs in the prompt"
        order, labels = display_options(user, item)
        if sorted(order) != list(range(len(item.options))) or (n_cont is not None and len(order) != n_cont):
            return (f"simulated backend: the options of item {item.id!r} were not all found as "
                    f"'<label>. <text>' lines in the prompt")
        style = pop.style(system)
        theta = pop.theta(system, style)
        probs = pop.category_probs(item, theta, pop.unique(system, item), float(style.get("acquiescence", 0.0)))
        lp = np.log(probs[order])
        lp[0] += float(style.get("position_bias", self.position_bias))
        lp = lp - np.log(np.exp(lp - lp.max()).sum()) - lp.max()
        return lp + math.log(float(style.get("label_mass", self.label_mass))), labels

    def score(self, requests: Sequence[ScoreRequest]) -> list[ScoreResult]:
        out = []
        for r in requests:
            if self.delay_s:
                time.sleep(self.delay_s)
            ans = self._answer(r.messages, len(r.continuations))
            ntok = self.count_tokens(r.messages)
            if isinstance(ans, str):
                out.append(ScoreResult(r.key, [0.0] * len(r.continuations), ntok, self.delay_s, error=ans))
            else:
                out.append(ScoreResult(r.key, [float(x) for x in ans[0]], ntok, self.delay_s))
        return out

    def generate(self, requests: Sequence[GenerateRequest]) -> list[GenerateResult]:
        out = []
        for r in requests:
            ans = self._answer(r.messages, None)
            ntok = self.count_tokens(r.messages)
            if isinstance(ans, str):
                out.append(GenerateResult(r.key, "", ntok, 0, self.delay_s, error=ans))
                continue
            lp, labels = ans
            p = np.exp(lp - lp.max())
            rng = np.random.default_rng(_seed_of("generate", r.key, r.seed, self.population.seed))
            out.append(GenerateResult(r.key, labels[int(rng.choice(len(p), p=p / p.sum()))], ntok, 1, self.delay_s))
        return out

    def count_tokens(self, messages: Sequence[Message]) -> int:
        return sum(len(m["content"].split()) + 4 for m in messages)

    def close(self) -> None:
        pass


def simulate(parameters: str | Mapping[str, Any], n: int, *, seed: int = 0, source: str = "expected",
             persona_text: str = "", items: Sequence[str] | None = None) -> "Any":
    """Answers of ``n`` fresh respondents of the population (no prompts): a DataFrame n × items of raw
    values 1..K (original option order, NOT reverse keyed).

    ``source="expected"`` gives Σ p·value (what score-mode scoring uses), ``"chosen"`` the most probable
    category (argmax). ``persona_text`` applies the planted effects of the ``personas`` entries it matches.
    Respondent ``r`` is drawn as the persona text ``f"{persona_text}#{r}"`` would be, with seed ``seed``.
    """
    import pandas as pd

    params = json.loads(Path(parameters).read_text()) if not isinstance(parameters, Mapping) else parameters
    pop = Population(params, seed=seed)
    style = pop.style(persona_text)
    chosen = [pop.items[i] for i in (items or list(pop.items))]
    rng = np.random.default_rng(_seed_of("simulate", persona_text, seed, n))
    theta = rng.standard_normal((n, len(pop.traits))) @ pop.chol.T
    for t, v in (style.get("shift") or {}).items():
        theta[:, pop.traits.index(t)] += float(v)
    gamma = float(style.get("acquiescence", 0.0))
    cols = {}
    for it in chosen:
        u = rng.standard_normal(n) * math.sqrt(it.uniqueness)
        probs = pop.grm(it, theta @ it.loadings + u + gamma)
        values = np.arange(1, len(it.options) + 1, dtype=float)
        cols[it.id] = probs @ values if source == "expected" else values[np.argmax(probs, axis=1)]
    return pd.DataFrame(cols)
