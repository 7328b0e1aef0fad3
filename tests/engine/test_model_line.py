"""A run says at start-up which model, dtype and forward pass it uses (and records the same in the manifest)."""

from __future__ import annotations

import json

import pytest

from psychometrika.engine.run import run_study


def test_run_prints_and_records_the_forward(tmp_path, mini_study, monkeypatch, capsys):
    pytest.importorskip("transformers")
    from psychometrika.backends.hf import TransformersBackend
    from psychometrika.tools.bench import make_random_llama

    monkeypatch.delenv("PSYCHOMETRIKA_NO_PROGRESS", raising=False)
    model, tok = make_random_llama("cpu", "float32", shape="tiny")
    study = mini_study(tmp_path, "fwd", "{id: tiny, backend: transformers, model: embedded}", personas=0)
    for forward, said in (("auto", "lean forward (psychometrika)"),
                          ("transformers", "transformers (forward: transformers) forward")):
        out = tmp_path / f"run-{forward}"
        run_study(study, out, progress=True, max_rows=4, batch_size=4,
                  backend_factory=lambda spec: TransformersBackend.from_model(model, tok, model_id="tiny-llama",
                                                                              forward=forward))
        printed = capsys.readouterr()
        line = next(x for x in (printed.out + printed.err).splitlines() if x.startswith("model tiny:"))
        assert line.startswith("model tiny: tiny-llama on transformers; float32, cpu;") and said in line
        assert "no BOS added" in line  # the embedded tokenizer adds none
        manifest = json.loads((out / "manifest.json").read_text())
        recorded = manifest["models"]["tiny"]["forward"]
        assert recorded == ("psychometrika" if forward == "auto" else "transformers (forward: transformers)")
