"""Activation steering inside the ``transformers`` backend: artefacts turned into per-layer vectors, forward hooks
for the ``transformers`` forward, and residual-stream activations for building directions.

* :func:`steering_vectors` -- a request's :class:`~psychometrika.backends.base.Steering` as ``{block index:
  coef x direction}`` tensors on the model's device and in its dtype (the artefact checked against the model's
  weights hash; loaded once per artefact).
* :func:`steering_hooks` -- a context manager adding those vectors to the output of the decoder blocks of a
  ``transformers`` model (``model.model.layers[i]``), for the fallback forward and for generation. The lean
  forward (:class:`.llama_forward.LlamaForward`) adds the same vectors in its own layer loop (``steer=``).
* :func:`residual_activations` -- the residual stream at the last prompt token, after every decoder block (and
  the embeddings), of chat-templated prompts: what :func:`psychometrika.engine.steering.build_steering` averages.

Layer ``l`` (1-based, as in the artefacts) is decoder block ``l - 1`` (0-based, as in ``model.model.layers``).
"""

from __future__ import annotations

import contextlib
import threading
from typing import Any, Iterator, Sequence

from ..errors import BackendError
from ..models.steering import load_directions
from .base import Steering

_LOCK = threading.Lock()
#: (vectors path, artefact sha256) -> (directions float32 numpy, metadata)
_LOADED: dict[tuple[str, str], tuple[Any, dict[str, Any]]] = {}


def _directions(steering: Steering) -> tuple[Any, dict[str, Any]]:
    key = (steering.vectors, steering.sha256)
    with _LOCK:
        if key not in _LOADED:
            _LOADED[key] = load_directions(steering.vectors, steering.sha256 or None)
        return _LOADED[key]


def steering_vectors(torch: Any, model: Any, steering: Steering, weights_sha256: str, device: str) -> dict[int, Any]:
    """``{decoder block index (0-based): coef x direction}`` for ``steering`` on ``model`` (its dtype)."""
    directions, meta = _directions(steering)
    n_layers = len(model.model.layers)
    if meta.get("weights_sha256") and weights_sha256 and meta["weights_sha256"] != weights_sha256:
        raise BackendError(f"steering artefact {steering.vectors} was built for weights "
                           f"{meta['weights_sha256'][:12]}, not these ({weights_sha256[:12]})",
                           hint="build the directions for this model: psychometrika steer build --model ...")
    hidden = int(model.config.hidden_size)
    if directions.shape != (n_layers + 1, hidden):
        raise BackendError(f"steering artefact {steering.vectors} has directions of shape {directions.shape}; "
                           f"this model has {n_layers} layers of width {hidden}")
    dtype = next(model.parameters()).dtype
    out = {}
    for layer in steering.layers:
        if not 1 <= int(layer) <= n_layers:
            raise BackendError(f"steering layer {layer} is outside 1..{n_layers}")
        vec = torch.from_numpy(directions[int(layer)] * float(steering.coef))
        out[int(layer) - 1] = vec.to(device=device, dtype=dtype)
    return out


@contextlib.contextmanager
def steering_hooks(model: Any, vectors: dict[int, Any] | None) -> Iterator[None]:
    """Add ``vectors[i]`` to the output hidden states of ``model.model.layers[i]`` while the context is open
    (nothing at all when ``vectors`` is empty or None)."""
    if not vectors:
        yield
        return
    handles = []

    def make(vec):
        def hook(module, args, output):
            if isinstance(output, tuple):
                return (output[0] + vec,) + tuple(output[1:])
            return output + vec
        return hook

    try:
        for i, vec in vectors.items():
            handles.append(model.model.layers[i].register_forward_hook(make(vec)))
        yield
    finally:
        for h in handles:
            h.remove()


def residual_activations(torch: Any, model: Any, sequences: Sequence[Sequence[int]], pad_id: int, device: str,
                         batch_size: int = 8) -> Any:
    """The residual stream at the last token of each sequence: float32 numpy ``[n, n_layers + 1, hidden]`` (row 0
    the embeddings, row ``l`` the output of decoder block ``l``). Right-padded batches (causal attention never
    sees the padding after a row's last token), ``transformers``' own forward, forward hooks."""
    import numpy as np

    layers = model.model.layers
    out = np.zeros((len(sequences), len(layers) + 1, int(model.config.hidden_size)), dtype=np.float32)
    captured: dict[int, Any] = {}

    def make(i):
        def hook(module, args, output):
            captured[i] = output[0] if isinstance(output, tuple) else output
        return hook

    handles = [model.model.embed_tokens.register_forward_hook(make(0))]
    handles += [layer.register_forward_hook(make(i + 1)) for i, layer in enumerate(layers)]
    try:
        with torch.inference_mode():
            for start in range(0, len(sequences), batch_size):
                sub = [list(s) for s in sequences[start:start + batch_size]]
                width = max(len(s) for s in sub)
                ids = torch.full((len(sub), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(sub), width), dtype=torch.long)
                for j, s in enumerate(sub):
                    ids[j, :len(s)] = torch.tensor(s, dtype=torch.long)
                    mask[j, :len(s)] = 1
                captured.clear()
                model(input_ids=ids.to(device), attention_mask=mask.to(device), logits_to_keep=1)
                last = torch.tensor([len(s) - 1 for s in sub], device=device)
                rows = torch.arange(len(sub), device=device)
                for i in range(len(layers) + 1):
                    out[start:start + len(sub), i] = captured[i][rows, last].float().cpu().numpy()
    finally:
        for h in handles:
            h.remove()
    return out


def clear_loaded() -> None:
    """Forget the artefacts loaded in this process."""
    with _LOCK:
        _LOADED.clear()


__all__ = ["clear_loaded", "residual_activations", "steering_hooks", "steering_vectors"]
