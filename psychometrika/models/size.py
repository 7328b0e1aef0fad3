"""How many parameters a model file holds, read from its header alone (no weights loaded).

The transformers backend picks its CPU dtype by model size (``dtype: auto``, see
:func:`psychometrika.backends.hf.auto_dtype`), before loading, so the count has to be cheap: a GGUF file's
tensor table (the metadata before it is skipped, not decoded: ~0.1 s for a 150k-token vocabulary, where
``gguf.GGUFReader`` takes tens of seconds here) or the JSON headers of a folder's ``*.safetensors`` files.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import BinaryIO

#: byte sizes of GGUF metadata value types with a fixed size (type id -> bytes); 8 is a string, 9 an array
_FIXED = {0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8}
_STRING, _ARRAY = 8, 9


def _u32(f: BinaryIO) -> int:
    return struct.unpack("<I", f.read(4))[0]


def _u64(f: BinaryIO) -> int:
    return struct.unpack("<Q", f.read(8))[0]


def _skip_value(f: BinaryIO, kind: int) -> None:
    if kind in _FIXED:
        f.seek(_FIXED[kind], 1)
    elif kind == _STRING:
        f.seek(_u64(f), 1)
    elif kind == _ARRAY:
        item, n = _u32(f), _u64(f)
        if item in _FIXED:
            f.seek(_FIXED[item] * n, 1)
        else:
            for _ in range(n):
                _skip_value(f, item)
    else:
        raise ValueError(f"unknown GGUF metadata type {kind}")


def gguf_parameter_count(path: str | Path) -> int:
    """The number of weights in a GGUF file (the product of every tensor's dimensions, summed).

    Raises ValueError for a file that is not GGUF version 2 or 3.
    """
    with open(path, "rb") as f:
        if f.read(4) != b"GGUF":
            raise ValueError(f"{path} is not a GGUF file")
        version = _u32(f)
        if version not in (2, 3):
            raise ValueError(f"{path}: GGUF version {version} is not supported")
        n_tensors, n_kv = _u64(f), _u64(f)
        for _ in range(n_kv):
            f.seek(_u64(f), 1)  # the key
            _skip_value(f, _u32(f))
        total = 0
        for _ in range(n_tensors):
            f.seek(_u64(f), 1)  # the name
            dims = [_u64(f) for _ in range(_u32(f))]
            f.seek(4 + 8, 1)  # type, offset
            total += math.prod(dims)
        return total


def safetensors_parameter_count(folder: str | Path) -> int | None:
    """The number of weights in a folder's ``*.safetensors`` files (from their headers), or None without any."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for p in files:
        with open(p, "rb") as f:
            header = json.loads(f.read(_u64(f)))
        total += sum(math.prod(t["shape"]) for k, t in header.items() if k != "__metadata__")
    return total


def parameter_count(weights: str | Path) -> int | None:
    """Parameters of a ``.gguf`` file or of a model folder's safetensors, or None when they cannot be read
    from a header (a hub id, ``.bin`` checkpoints, an unreadable file)."""
    p = Path(weights)
    try:
        if p.is_file() and p.suffix == ".gguf":
            return gguf_parameter_count(p)
        if p.is_dir():
            return safetensors_parameter_count(p)
    except (OSError, ValueError, KeyError, struct.error, json.JSONDecodeError):
        return None
    return None


__all__ = ["gguf_parameter_count", "parameter_count", "safetensors_parameter_count"]
