"""Building trait directions for activation steering (``psychometrika steer build``, :func:`build_steering`).

Method (mean difference of contrastive prompts, as in "Persona Vectors", Chen et al. 2025, here at the prompt's
last token):

1. Two persona texts describe the trait's poles: by default the shaping template of
   :class:`psychometrika.design.personas.Shaping` filled with the marker list's adjectives at the extreme
   levels ("... I am extremely quiet, extremely reserved, ..." versus "... extremely talkative, ..."), or texts
   the user gives.
2. Each is the system prompt of every neutral question of the shipped set (``design/data/steering/
   neutral-questions.yaml``, 40 everyday questions, CC0) or of a user's list; the chat is templated with the
   assistant turn opened, and the residual stream at its last token (where the answer's first token is predicted)
   is read after every decoder block (:meth:`psychometrika.backends.hf.TransformersBackend.residual_activations`).
3. Direction at layer ``l`` = mean activation of the trait-high prompts - mean of the trait-low prompts.
4. Layer choice (unless a layer is given): the direction from the even-numbered questions, then Cohen's d of the
   projections of the odd-numbered (held-out) questions' activations on it, high versus low; the layer of the
   largest d. The stored directions use every question. Choosing needs at least 10 questions (5 held out
   per pole); with fewer, a layer must be given and no d is reported.
5. ``norm``: ``raw`` (default) keeps the mean difference as measured, so coefficient 1 moves the residual stream
   by the measured high-low difference; ``unit`` scales every layer's direction to length 1.

Everything is deterministic: the prompts, their order, float32 activations, float64 averages; the artefact
(:mod:`psychometrika.models.steering`) holds no time stamp, so building twice gives byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..errors import BackendError, StudyError
from ..models.steering import NORMS, mean_difference, pick_layer, save_artefact, separation

QUESTIONS = Path(__file__).resolve().parents[1] / "design" / "data" / "steering" / "neutral-questions.yaml"
#: fewest neutral questions: to build a direction; to choose a layer by held-out d (5 held out per pole)
MIN_QUESTIONS, MIN_CHOICE = 2, 10
CRITERION = ("held-out Cohen's d: direction from the even-numbered questions, d of the odd-numbered questions' "
             "projections on it (trait-high vs trait-low); the layer of the largest d")


def neutral_questions(path: str | Path | None = None) -> list[str]:
    """The shipped neutral questions, or those of a YAML file (``questions: [...]`` or a list) or text file (one
    a line)."""
    from ..yamlio import parse_yaml, read_text

    p = Path(path) if path is not None else QUESTIONS
    text, _ = read_text(p, StudyError)
    if p.suffix.lower() in {".yaml", ".yml"}:
        data = parse_yaml(text, str(p), StudyError)
        qs = data.get("questions") if isinstance(data, dict) else data
    else:
        qs = [line.strip() for line in text.splitlines() if line.strip()]
    if not isinstance(qs, list) or not all(isinstance(q, str) and q.strip() for q in qs):
        raise StudyError("the neutral questions must be a list of texts (questions: [...])", file=str(p))
    if len(qs) < MIN_QUESTIONS:
        raise StudyError(f"{len(qs)} neutral question(s); at least {MIN_QUESTIONS} are needed to build a "
                         "direction", file=str(p))
    return [q.strip() for q in qs]


def pole_texts(trait: str, markers: str = "big5", template: str | None = None) -> tuple[str, str, str]:
    """(trait name, trait-high text, trait-low text) from the shaping markers at the extreme levels."""
    from ..design.personas import Shaping, describe_trait, load_markers

    traits = load_markers(markers)["traits"]
    by_code = {str(v.get("code", k)).lower(): k for k, v in traits.items()}
    name = trait if trait in traits else by_code.get(trait.lower())
    if name is None:
        raise StudyError(f"no trait {trait!r} in the marker list {markers!r}",
                         hint=f"known: {sorted(traits)} (codes {sorted(by_code)})")
    tmpl = template or Shaping.model_fields["template"].default
    pairs = traits[name]["markers"]
    fill = lambda level: tmpl.replace("{description}", describe_trait(pairs, level, 2))  # noqa: E731
    return name, fill(2), fill(1)


def prompt_set(high: str, low: str, questions: Sequence[str]) -> list[tuple[str, int, list[dict[str, str]]]]:
    """(pole, question index, messages) of every contrastive prompt, high prompts first."""
    out = []
    for pole, text in (("high", high), ("low", low)):
        for i, q in enumerate(questions):
            out.append((pole, i, [{"role": "system", "content": text}, {"role": "user", "content": q}]))
    return out


def _activations(backend: Any, messages: list[list[dict[str, str]]], progress: bool) -> np.ndarray:
    """``backend.residual_activations`` of ``messages``, one backend batch a call (the same batches as a single
    call, so the same numbers), with a progress bar unless disabled or ``PSYCHOMETRIKA_NO_PROGRESS`` is set."""
    step = max(1, int(getattr(backend, "batch_size", 8) or 8))
    if not progress or os.environ.get("PSYCHOMETRIKA_NO_PROGRESS"):
        return np.asarray(backend.residual_activations(messages))
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    parts = []
    with Progress(TextColumn("[bold]activations"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn()) as bar:
        task = bar.add_task("prompts", total=len(messages))
        for start in range(0, len(messages), step):
            parts.append(np.asarray(backend.residual_activations(messages[start:start + step])))
            bar.update(task, advance=len(parts[-1]))
    return np.concatenate(parts)


def _finite(values: np.ndarray) -> list[float | None]:
    return [None if not math.isfinite(float(v)) else round(float(v), 6) for v in values]


def build_steering(out: str | Path, *, trait: str, model: str = "embedded", backend: str = "transformers",
                   settings: dict[str, Any] | None = None, layer: int | None = None, norm: str = "raw",
                   markers: str = "big5", high: str | None = None, low: str | None = None,
                   questions: str | Path | Sequence[str] | None = None, backend_obj: Any = None,
                   progress: bool = True) -> dict[str, Any]:
    """Compute a trait's directions for ``model`` and write the artefact ``out`` (``.safetensors`` + ``.json``);
    return its metadata (see the module docstring for the method).

    Parameters
    ----------
    out : artefact path (either file name, or their common stem).
    trait : a trait (or code) of the marker list; with ``high``/``low`` any name.
    model, backend, settings : the model (as in a study's ``models:`` entry); or ``backend_obj``, an open backend.
    layer : the layer to steer at (1..n_layers); default: chosen by the held-out separation criterion.
    norm : ``raw`` or ``unit`` (see the module docstring).
    high, low : the two pole texts (default: from the shaping markers).
    questions : the neutral questions (a file, or a list; default: the shipped 40).
    progress : show a progress bar over the prompts (off when ``PSYCHOMETRIKA_NO_PROGRESS`` is set).

    Example
    -------
    >>> meta = build_steering("vectors/smollm2-E", trait="extraversion")      # doctest: +SKIP
    >>> meta["layer"], meta["separation"][meta["layer"]]                         # doctest: +SKIP
    """
    if norm not in NORMS:
        raise StudyError(f"norm must be one of {', '.join(NORMS)}, not {norm!r}")
    if (high is None) != (low is None):
        raise StudyError("give both pole texts (high and low) or neither")
    if high is None:
        name, high, low = pole_texts(trait, markers)
        origin = f"shaping markers {markers!r}, extreme levels"
    else:
        name, origin = trait, "given"
    assert low is not None
    if questions is None or isinstance(questions, (str, Path)):
        qs = neutral_questions(questions)
        q_source = str(questions) if questions is not None else "psychometrika neutral-questions.yaml (CC0)"
    else:
        qs = [str(q) for q in questions]
        q_source = "given"
        if len(qs) < MIN_QUESTIONS:
            raise StudyError(f"{len(qs)} neutral question(s); at least {MIN_QUESTIONS} are needed to build a "
                             "direction")
    if layer is None and len(qs) < MIN_CHOICE:
        raise StudyError(f"{len(qs)} neutral questions: choosing a layer needs at least {MIN_CHOICE} (the "
                         f"held-out Cohen's d of {len(qs) // 2} prompts per pole would be too noisy to rank "
                         "layers by)", hint="give more questions, or a layer (--layer)")
    prompts = prompt_set(high, low, qs)
    prompt_sha = hashlib.sha256(json.dumps([p[2] for p in prompts], sort_keys=True, ensure_ascii=False)
                                .encode()).hexdigest()
    own = backend_obj is None
    if own:
        from ..backends import make_backend

        backend_obj = make_backend(backend, model=model, **(settings or {}))
    try:
        if not hasattr(backend_obj, "residual_activations"):
            raise BackendError(f"backend {backend_obj.info.backend!r} cannot read residual-stream activations; "
                               "trait directions need the transformers backend")
        acts = _activations(backend_obj, [p[2] for p in prompts], progress)
        info = backend_obj.info
    finally:
        if own:
            backend_obj.close()
    n = len(qs)
    hi_acts, lo_acts = acts[:n], acts[n:]
    n_layers = acts.shape[1] - 1
    idx = np.arange(n)
    # held-out d only where it can be trusted to rank layers (MIN_CHOICE questions); else not reported at all
    sep = (separation(hi_acts, lo_acts, idx % 2 == 0, idx % 2 == 1) if n >= MIN_CHOICE
           else np.full(n_layers + 1, np.nan))
    if layer is None:
        chosen, how = pick_layer(sep), CRITERION
    else:
        if not 1 <= int(layer) <= n_layers:
            raise StudyError(f"layer {layer} is outside 1..{n_layers}")
        chosen, how = int(layer), "given"
    diff = mean_difference(hi_acts, lo_acts)
    diff_norm = np.linalg.norm(diff, axis=1)
    directions = diff if norm == "raw" else diff / np.where(diff_norm > 0, diff_norm, 1.0)[:, None]
    meta = {
        "trait": name, "model_id": info.model_id, "backend": info.backend, "weights_sha256": info.weights_sha256,
        "dtype": info.dtype, "method": "mean-difference", "position": "last prompt token (assistant turn opened)",
        "norm": norm, "layer": chosen, "layer_choice": how, "separation": _finite(sep),
        "mean_diff_norm": _finite(diff_norm),
        "residual_norm": _finite(np.linalg.norm(acts.astype(np.float64), axis=2).mean(0)),
        "high_text": high, "low_text": low, "poles": origin, "questions": q_source, "n_questions": n,
        "prompt_set_sha256": prompt_sha,
    }
    save_artefact(out, directions, meta)
    from ..models.steering import read_metadata

    return read_metadata(out)


__all__ = ["CRITERION", "MIN_CHOICE", "MIN_QUESTIONS", "QUESTIONS", "build_steering", "neutral_questions", "pole_texts", "prompt_set"]
