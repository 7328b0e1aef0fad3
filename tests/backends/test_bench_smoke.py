"""The inference benchmark runs end to end on a tiny prompt set (the real measurements are in docs/benchmarks.md)."""

from __future__ import annotations

import json

import pytest

pytest.importorskip("torch")


def test_benchmark_runs_on_a_tiny_random_model(tmp_path):
    from psychometrika.tools.bench import main

    out = tmp_path / "bench.json"
    lines: list[str] = []
    import psychometrika.tools.bench as bench

    res = bench.run("cpu", "tiny-random", n_items=3, n_orders=2, batch_size=4, dtype="float32",
                    print_fn=lines.append)
    assert set(res["methods"]) == {"generate_per_item", "generate_batched", "score_batched", "score_shared_prefix",
                                   "score_shared_prefix_hf"}  # the lean forward runs, and the transformers one too
    assert res["info"]["forward"] == "psychometrika"
    assert res["info"]["prompts"] == 6 and res["info"]["mean_shared_prefix_tokens"] > 100
    assert res["agreement_scoring"] == 1.0 and res["max_abs_dlogprob"] < 1e-4  # same dtype, same answers
    assert lines[-1].startswith("speedup_vs_naive=") and float(lines[-1].split("=")[1]) > 0
    assert all(m["items_per_s"] > 0 and m["peak_mem_mb"] > 0 for m in res["methods"].values())
    main(["--model", "tiny-random", "--items", "2", "--orders", "1", "--batch-size", "2", "--dtype", "float32",
          "--variants", "attention=matmul", "--json", str(out)])
    res = json.loads(out.read_text())
    assert res["info"]["prompts"] == 2 and res["info"]["attention"] == "sdpa"
    assert res["methods"]["score_shared_prefix[attention=matmul]"]["items_per_s"] > 0


def test_benchmark_variants_are_checked():
    import psychometrika.tools.bench as bench

    assert bench.parse_settings("attention=matmul,compile=true,min_prefix=8") == {
        "attention": "matmul", "compile": True, "min_prefix": 8}
    with pytest.raises(ValueError, match="not KEY=VALUE"):
        bench.parse_settings("compile")
    with pytest.raises(ValueError, match=r"unknown setting\(s\) \['atention'\]"):
        bench.run("cpu", "tiny-random", n_items=1, n_orders=1, batch_size=2, variants=["atention=matmul"],
                  print_fn=lambda _: None)


@pytest.mark.slow
def test_bench_command_runs_the_compiled_lean_forward(tmp_path, capsys):
    from psychometrika.cli import main

    out = tmp_path / "bench.json"
    with pytest.raises(SystemExit) as done:
        main(["bench", "--model", "tiny-random", "--items", "2", "--orders", "2", "--batch-size", "2", "--compile",
              "--variant", "attention=matmul", "--json", str(out)])
    assert done.value.code == 0
    res = json.loads(out.read_text())
    assert res["info"]["compile"] is True and res["info"]["forward"] == "psychometrika"
    assert {"score_shared_prefix_hf", "score_shared_prefix[attention=matmul]"} <= set(res["methods"])
    assert res["max_abs_dlogprob"] < 0.05  # bf16 (the random models' default): rounding, not a different answer
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith("speedup_vs_naive=")


def test_benchmark_prompts_come_from_the_plan_and_the_old_paths_are_aliases():
    import importlib
    import sys

    import psychometrika.tools.bench as bench
    import psychometrika.models.convert as convert
    from psychometrika.instruments import load_instrument

    import psychometrika.models.embedded as embedded

    aliases = [("psychometrika.backends.bench", bench), ("psychometrika.backends.convert", convert),
               ("psychometrika.tools.convert", convert), ("psychometrika.backends.embedded", embedded)]
    for old, new in aliases:
        sys.modules.pop(old, None)
        with pytest.warns(DeprecationWarning, match=f"moved to {new.__name__}"):
            assert importlib.import_module(old) is new
    plan = bench.workload_plan(3, n_orders=2)
    items = [it for it in load_instrument("bfi-44").items[:3]]
    assert list(plan["item"]) == [it.id for it in items] * 2
    assert list(plan["permutation"].map(list)) == [[0, 1, 2, 3, 4]] * 3 + [[0, 1, 2, 4, 3]] * 3
    first = plan["messages"].iloc[0]
    assert items[0].text in first[1]["content"] and first[-1] == {"role": "assistant", "content": "Answer:"}
    assert bench.workload(3, n_orders=2)[4] == tuple(plan["messages"].iloc[4])
    with pytest.raises(ValueError, match="at most 120 option orders"):
        bench.workload_plan(1, n_orders=121)
