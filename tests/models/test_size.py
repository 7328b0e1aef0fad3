"""Parameter counts read from model file headers (what ``dtype: auto`` decides by), against the loaded tensors."""

from __future__ import annotations

import pytest

from psychometrika.models.size import gguf_parameter_count, parameter_count, safetensors_parameter_count


def test_gguf_count_equals_the_gguf_readers_tensor_sizes():
    gguf = pytest.importorskip("gguf")
    from psychometrika.models.embedded import embedded_gguf

    path = embedded_gguf()
    expected = sum(int(t.n_elements) for t in gguf.GGUFReader(str(path)).tensors)
    assert gguf_parameter_count(path) == expected == parameter_count(path) == 134_515_008


def test_safetensors_count_equals_the_models_parameters(tmp_path):
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("torch")
    cfg = transformers.LlamaConfig(hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                                   num_key_value_heads=2, vocab_size=1000, tie_word_embeddings=False)
    model = transformers.LlamaForCausalLM(cfg)
    model.save_pretrained(tmp_path / "m")
    n = sum(p.numel() for p in model.parameters())
    assert safetensors_parameter_count(tmp_path / "m") == n == parameter_count(tmp_path / "m")


def test_unreadable_sources_count_as_unknown(tmp_path):
    (tmp_path / "x.gguf").write_bytes(b"NOPE" + bytes(20))
    assert parameter_count(tmp_path / "x.gguf") is None
    assert parameter_count(tmp_path) is None  # a folder without safetensors
    assert parameter_count("HuggingFaceTB/SmolLM2-135M-Instruct") is None  # a hub id
    with pytest.raises(ValueError, match="not a GGUF file"):
        gguf_parameter_count(tmp_path / "x.gguf")
