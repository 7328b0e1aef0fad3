"""Tools around the measurement pipeline that are not a stage of it.

* :mod:`psychometrika.tools.bench` — the inference benchmark (``psychometrika bench``,
  ``benchmarks/bench_inference.py``): four ways to administer the same study prompts, timed side by side;
* :mod:`psychometrika.tools.convert` — GGUF to safetensors conversion (``psychometrika convert``; the vLLM
  backend uses it to load GGUF files such as the embedded model).

They use the backends; nothing in the pipeline stages imports them except the vLLM backend (for conversion).
"""
