"""Convert a GGUF model file into a dense safetensors folder (what vLLM and most tools load).

transformers can *read* GGUF (``from_pretrained(folder, gguf_file=name)``) but refuses to ``save_pretrained`` a
GGUF-loaded model while it carries the GGUF quantizer; dropping ``model.hf_quantizer`` and
``config.quantization_config`` after dequantizing gives an ordinary checkpoint (SmolLM2-135M: 270 MB in bf16).

The result is cached: a folder converted from the same GGUF bytes (sha256 recorded in ``psychometrika.json``)
is reused. Command line: ``psychometrika convert MODEL.gguf OUT_DIR``.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path

from ..errors import BackendError
from .embedded import EMBEDDED_ID, embedded_gguf, file_sha256, is_embedded

MARKER = "psychometrika.json"


def default_cache_dir() -> Path:
    """``$PSYCHOMETRIKA_CACHE`` or ``~/.cache/psychometrika``."""
    return Path(os.environ.get("PSYCHOMETRIKA_CACHE") or Path.home() / ".cache" / "psychometrika")


def converted_folder(gguf: str | Path, dtype: str = "bfloat16", cache_dir: str | Path | None = None) -> Path:
    """Where :func:`gguf_to_safetensors` puts (or has put) the conversion of ``gguf``."""
    sha = file_sha256(str(gguf))
    return Path(cache_dir or default_cache_dir()) / "models" / f"{Path(gguf).stem}-{dtype}-{sha[:12]}"


def is_converted(folder: str | Path, gguf: str | Path) -> bool:
    marker = Path(folder) / MARKER
    if not marker.is_file():
        return False
    try:
        return json.loads(marker.read_text())["source_sha256"] == file_sha256(str(gguf))
    except (ValueError, KeyError):
        return False


def gguf_to_safetensors(gguf: str | Path | None = None, out_dir: str | Path | None = None, *,
                        dtype: str = "bfloat16", overwrite: bool = False) -> Path:
    """Dequantize a GGUF file into a safetensors model folder with its tokenizer and chat template.

    Args:
        gguf: the ``.gguf`` file; ``None`` or ``"embedded"`` for the shipped SmolLM2-135M-Instruct.
        out_dir: target folder (default: :func:`converted_folder` under the cache directory).
        dtype: ``bfloat16`` (default), ``float16`` or ``float32``.
        overwrite: convert again even when ``out_dir`` already holds this file's conversion.

    Returns:
        The folder. It is written to a temporary sibling and renamed, so an interrupted conversion never
        leaves a half-written model behind.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    src = embedded_gguf() if gguf is None or is_embedded(str(gguf)) else Path(gguf).expanduser()
    if not src.is_file() or src.suffix != ".gguf":
        raise BackendError(f"{src} is not a .gguf file")
    if dtype not in {"bfloat16", "float16", "float32"}:
        raise BackendError(f"dtype must be bfloat16, float16 or float32, not {dtype!r}")
    out = Path(out_dir).expanduser() if out_dir else converted_folder(src, dtype)
    if is_converted(out, src) and not overwrite:
        return out
    if out.exists() and not overwrite and any(out.iterdir()):
        raise BackendError(f"{out} exists and is not a conversion of {src.name}", hint="pass overwrite=True")
    kwargs = {"gguf_file": src.name}
    try:
        from transformers import GgufConfig
        kwargs["quantization_config"] = GgufConfig(gguf_file=src.name, dequantize=True)
    except ImportError:  # older transformers always dequantize GGUF
        pass
    tok = AutoTokenizer.from_pretrained(str(src.parent), gguf_file=src.name, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(str(src.parent), dtype=getattr(torch, dtype),
                                                 local_files_only=True, **kwargs)
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.is_quantized = False
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        name = EMBEDDED_ID if gguf is None or is_embedded(str(gguf)) else src.stem
        (tmp / MARKER).write_text(json.dumps({"source": str(src), "source_sha256": file_sha256(str(src)),
                                              "dtype": dtype, "model_id": name}, indent=1))
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out

