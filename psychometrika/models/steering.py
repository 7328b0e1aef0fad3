"""Steering artefacts: trait directions in a model's residual stream, stored as ``safetensors`` + JSON metadata.

An artefact is two files side by side::

    smollm2-extraversion.safetensors   # tensor "directions" [n_layers + 1, hidden] float32 (row l: layer l)
    smollm2-extraversion.json          # metadata (below); the study refers to either file

Row ``l`` of ``directions`` is the direction at layer ``l``: the residual stream after decoder block ``l``
(row 0, the embeddings, is stored for completeness and never steered). The metadata records what the vectors
are and where they come from::

    format: psychometrika-steering, version: 1
    trait, model_id, weights_sha256       # the weights the activations came from (a backend refuses others)
    method: mean-difference               # mean activation (trait-high prompts) - mean (trait-low prompts)
    position: last prompt token           # the position the next token is predicted from (assistant turn opened)
    norm: raw | unit                      # raw: the mean difference as measured; unit: scaled to length 1
    layer                                 # the chosen layer (criterion below, or given)
    layer_choice, separation              # the criterion (or "given"); held-out Cohen's d at every layer
    prompt_set_sha256, n_questions, high_text, low_text
    vectors_sha256                        # sha256 of the .safetensors file's bytes
    mean_diff_norm, residual_norm         # per layer: |mean difference| and the mean |residual| of the prompts

The artefact's identity (:func:`artefact_sha256`) is the sha256 of the metadata file, which includes the hash of
the vectors: it enters the identity of every study that steers with it. Nothing here needs torch (numpy and
``safetensors.numpy``); the math of :func:`mean_difference` and :func:`cohens_d` is plain numpy, in float64.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import BackendError

FORMAT = "psychometrika-steering"
VERSION = 1
TENSOR = "directions"
NORMS = ("raw", "unit")


def artefact_paths(path: str | Path) -> tuple[Path, Path]:
    """(``.safetensors``, ``.json``) of an artefact named by either file or by their common stem."""
    p = Path(path)
    if p.suffix in {".safetensors", ".json"}:
        p = p.with_suffix("")
    return p.with_suffix(".safetensors"), p.with_suffix(".json")


def _sha_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def read_metadata(path: str | Path) -> dict[str, Any]:
    """The metadata of an artefact (checked: format, version, the fields every artefact has)."""
    _, meta_path = artefact_paths(path)
    if not meta_path.exists():
        raise BackendError(f"steering artefact {meta_path} does not exist",
                           hint="build one with: psychometrika steer build --trait <trait> --out <path>")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise BackendError(f"{meta_path}:{exc.lineno}:{exc.colno}: invalid JSON ({exc.msg})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise BackendError(f"{meta_path} is not a psychometrika steering artefact (format {FORMAT!r})")
    if meta.get("version") != VERSION:
        raise BackendError(f"{meta_path}: steering artefact version {meta.get('version')!r}; this psychometrika "
                           f"reads version {VERSION}")
    missing = [k for k in ("trait", "weights_sha256", "layer", "n_layers", "hidden_size", "vectors_sha256", "norm")
               if k not in meta]
    if missing:
        raise BackendError(f"{meta_path}: metadata lacks {', '.join(missing)}")
    return meta


def artefact_sha256(path: str | Path) -> str:
    """The artefact's identity: sha256 of its metadata file (which holds the vectors' sha256)."""
    return _sha_file(artefact_paths(path)[1])


def load_directions(path: str | Path, expect_sha256: str | None = None) -> tuple[np.ndarray, dict[str, Any]]:
    """(directions ``[n_layers + 1, hidden]`` float32, metadata), the vectors file checked against the hash its
    metadata records (and against ``expect_sha256``, the artefact identity a study recorded, when given)."""
    from safetensors.numpy import load

    vec_path, meta_path = artefact_paths(path)
    meta = read_metadata(path)
    if expect_sha256 is not None and artefact_sha256(path) != expect_sha256:
        raise BackendError(f"steering artefact {meta_path} changed since the study was planned (sha256 "
                           f"{artefact_sha256(path)[:12]}, the study recorded {expect_sha256[:12]})",
                           hint="re-plan the study, or restore the artefact it was planned with")
    if not vec_path.exists():
        raise BackendError(f"steering vectors {vec_path} do not exist (the metadata {meta_path} does)")
    data = vec_path.read_bytes()
    got = hashlib.sha256(data).hexdigest()
    if got != meta["vectors_sha256"]:
        raise BackendError(f"{vec_path}: sha256 {got[:12]} is not the {meta['vectors_sha256'][:12]} its metadata "
                           "records (the vectors were changed or replaced)")
    tensors = load(data)
    if TENSOR not in tensors:
        raise BackendError(f"{vec_path} holds no tensor {TENSOR!r}")
    d = tensors[TENSOR].astype(np.float32, copy=False)
    if d.shape != (int(meta["n_layers"]) + 1, int(meta["hidden_size"])):
        raise BackendError(f"{vec_path}: directions of shape {d.shape}, the metadata says "
                           f"({meta['n_layers']} + 1, {meta['hidden_size']})")
    return d, meta


def mean_difference(high: np.ndarray, low: np.ndarray) -> np.ndarray:
    """Per-layer mean(high) - mean(low) of activations ``[n_prompts, n_layers + 1, hidden]`` (float64)."""
    return np.asarray(high, dtype=np.float64).mean(0) - np.asarray(low, dtype=np.float64).mean(0)


def cohens_d(a: np.ndarray, b: np.ndarray) -> float:
    """Cohen's d of two samples, pooled SD with n - 1 (``effectsize::cohens_d`` default); nan when undefined."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    na, nb = len(a), len(b)
    if na < 2 or nb < 2:
        return float("nan")
    pooled = ((na - 1) * a.var(ddof=1) + (nb - 1) * b.var(ddof=1)) / (na + nb - 2)
    if pooled <= 0:
        return float("nan")
    return float((a.mean() - b.mean()) / np.sqrt(pooled))


def separation(high: np.ndarray, low: np.ndarray, train: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Held-out separation per layer: the direction from the ``train`` prompts (boolean mask over prompts), then
    Cohen's d of the ``held`` prompts' projections on it (high versus low). Layer 0 (embeddings) is nan."""
    diff = mean_difference(high[train], low[train])
    out = np.full(diff.shape[0], np.nan)
    for layer in range(1, diff.shape[0]):
        n = np.linalg.norm(diff[layer])
        if n == 0:
            continue
        u = diff[layer] / n
        out[layer] = cohens_d(high[held, layer] @ u, low[held, layer] @ u)
    return out


def pick_layer(sep: np.ndarray) -> int:
    """The layer of the largest held-out separation (the lowest such layer on ties)."""
    if not np.isfinite(sep).any():
        raise BackendError("no layer separates the trait-high from the trait-low prompts (all d undefined)")
    return int(np.nanargmax(sep))


def save_artefact(path: str | Path, directions: np.ndarray, meta: dict[str, Any]) -> tuple[Path, Path]:
    """Write ``directions`` (float32) and the metadata (with ``format``, ``version``, ``vectors_sha256``);
    byte-identical for identical inputs. Returns the two paths."""
    from safetensors.numpy import save

    vec_path, meta_path = artefact_paths(path)
    vec_path.parent.mkdir(parents=True, exist_ok=True)
    d = np.ascontiguousarray(directions, dtype=np.float32)
    data = save({TENSOR: d})
    vec_path.write_bytes(data)
    full = {"format": FORMAT, "version": VERSION, **meta, "n_layers": int(d.shape[0] - 1),
            "hidden_size": int(d.shape[1]), "vectors_sha256": hashlib.sha256(data).hexdigest()}
    meta_path.write_text(json.dumps(full, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")
    return vec_path, meta_path


__all__ = ["FORMAT", "NORMS", "VERSION", "artefact_paths", "artefact_sha256", "cohens_d", "load_directions",
           "mean_difference", "pick_layer", "read_metadata", "save_artefact", "separation"]
