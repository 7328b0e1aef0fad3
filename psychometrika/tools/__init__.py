"""Tools around the measurement pipeline that are not a stage of it.

* :mod:`psychometrika.tools.bench` — the inference benchmark (``psychometrika bench``,
  ``benchmarks/bench_inference.py``): four ways to administer the same study prompts, timed side by side;
* :mod:`psychometrika.tools.simulate` and :mod:`psychometrika.tools.export` — simulated-population parameters and
  the wide export.

They use the pipeline stages; no stage imports them. (The GGUF converter, which the vLLM backend needs, lives in
:mod:`psychometrika.models.convert`; ``psychometrika.tools.convert`` is a deprecated alias.)
"""
