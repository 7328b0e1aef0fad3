"""Inference benchmark: four ways to administer the same questionnaire prompts, measured side by side.

Methods (same prompts, same dtype, one process):

1. ``generate_per_item`` -- naive baseline: one prompt at a time, greedy generation of 8 tokens;
2. ``generate_batched`` -- the same generation in padded batches;
3. ``score_batched`` -- one forward pass per prompt, next-token log-probs of the option labels, batched
   (lm-eval-harness style loglikelihood);
4. ``score_shared_prefix`` -- the same scoring with the shared prefix (system prompt, persona, instructions,
   response scale) computed once per group and its KV cache reused for every item suffix, through
   psychometrika's lean forward pass for Llama-layout models (:mod:`psychometrika.backends.llama_forward`); when
   that is used, ``score_shared_prefix_hf`` runs the same shared-prefix path through the ``transformers`` forward
   too.

Variants of the shared-prefix method (other backend settings, e.g. ``attention=matmul`` or ``compile=true``)
run on the same prompts in the same process as ``score_shared_prefix[<settings>]``; the headline
``speedup_vs_naive`` is always the default settings' method.

Prints items/s, agreement of choices between methods, peak memory, % of the compute roofline on GPU, and a
last line ``speedup_vs_naive=<x>`` (shared-prefix scoring / per-item generation).

Usage: ``python benchmarks/bench_inference.py --device cpu`` or ``psychometrika bench --device cuda --model
llama3-8b-random``.
"""

from __future__ import annotations

import inspect
import json
import os
import resource
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: The benchmark's respondent: one persona (the system prompt every prompt shares).
_PERSONA = ("You are taking part in a personality study. Answer every question honestly, as the person you are, "
            "without explaining your answer. There are no right or wrong answers; we are interested in how you see "
            "yourself in general, not in a particular situation.")
_H100_BF16_FLOPS = 790e12  # dense bf16 tensor-core throughput used for the roofline (issue 8)


@dataclass
class MethodResult:
    name: str
    items: int
    seconds: float
    choices: list[int]
    peak_mem_mb: float

    @property
    def rate(self) -> float:
        return self.items / self.seconds


def workload_plan(n_items: int, n_orders: int = 4, instrument: str = "bfi-44") -> pd.DataFrame:
    """The benchmark's prompts as plan rows (:func:`psychometrika.plan.build_plan`) of a one-condition study:
    the first ``n_items`` items of ``instrument`` (repeated in turn when more are asked for) under the first
    ``n_orders`` of all orders of its options (the original order first, then the permutations in lexicographic
    order), one persona, one instruction wording, numeric labels. Rows are ordered option order by option order, so each
    order's prompts share a long prefix (system prompt, instructions, response scale)."""
    from ..design.study import Study
    from ..instruments import load_instrument
    from ..plan import build_plan

    inst = load_instrument(instrument)
    ids = [it.id for it in inst.items]
    chosen = [ids[j % len(ids)] for j in range(n_items)]
    study = Study.model_validate({
        "id": "bench", "instruments": [{"id": inst.id, "items": list(dict.fromkeys(chosen))}],
        "models": [{"id": "bench", "backend": "dummy"}],
        "personas": {"include_none": False, "items": [{"id": "participant", "text": _PERSONA}]},
        "paraphrases": {"instructions": 1, "stems": "original"}, "option_orders": ["all"],
        "template": {"answer_prefix": "Answer:"}})
    plan = build_plan(study)
    orders = list(dict.fromkeys(plan["order_id"]))
    if len(orders) < n_orders:
        raise ValueError(f"at most {len(orders)} option orders")
    by_item = {(r.order_id, r.item): r for r in plan.itertuples(index=False)}
    rows = [by_item[(order, item)]._asdict() for order in orders[:n_orders] for item in chosen]
    return pd.DataFrame(rows)


def workload(n_items: int, n_orders: int = 4, instrument: str = "bfi-44") -> list[tuple[dict, ...]]:
    """The chat messages of :func:`workload_plan`'s prompts (system + instructions and scale + item + answer
    prefix): ``n_items`` items x ``n_orders`` option orders."""
    return [tuple(m) for m in workload_plan(n_items, n_orders, instrument)["messages"]]


def _peak_mb(torch, device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak(torch, device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


#: Random-weight shapes (throughput depends on the shape, not on the weights).
SHAPES = {"llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32, num_attention_heads=32,
                            num_key_value_heads=8, vocab_size=128256),
          "tiny": dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                       num_key_value_heads=2, vocab_size=49152)}


def load_tokenizer(folder: str | None = None):
    """The embedded model's tokenizer, or one saved with ``save_pretrained`` in ``folder``."""
    from transformers import AutoTokenizer

    if folder:
        return AutoTokenizer.from_pretrained(folder, local_files_only=True)
    from ..models.embedded import embedded_gguf

    gguf = embedded_gguf()
    return AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)


def make_random_llama(device: str, dtype: str = "bfloat16", shape: str = "llama3-8b", tokenizer: str | None = None):
    """A random-weight Llama of a real shape (throughput is what is measured) with the embedded tokenizer
    (its ids are below every shape's vocabulary size)."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    tok = load_tokenizer(tokenizer)
    dims = dict(SHAPES[shape])
    dims["vocab_size"] = max(dims["vocab_size"], len(tok))
    cfg = LlamaConfig(max_position_embeddings=4096, rope_theta=500000.0, **dims)
    torch.manual_seed(0)
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(getattr(torch, dtype)).eval()
    return model, tok


def run(device: str = "cpu", model: str = "smollm2", n_items: int = 22, n_orders: int = 4,
        n_generate: int | None = None, batch_size: int = 16, dtype: str | None = None,
        tokenizer: str | None = None, compile: bool = False, variants: list[str] | tuple[str, ...] = (),
        print_fn=print) -> dict[str, Any]:
    """Run the four methods; returns a dict of results (also printed).

    The unshared scoring baseline always uses the model's own ``transformers`` forward, so the agreement
    printed compares psychometrika's shared-prefix path (with its lean forward where the model supports it)
    against the reference computation. When the lean forward is used, shared-prefix scoring through the
    ``transformers`` forward runs too (``score_shared_prefix_hf``), to show what each part gains."""
    import torch

    from ..plan import labels_for
    from ..answers import parse_choice
    from ..backends.base import GenerateRequest, ScoreRequest
    from ..backends.hf import TransformersBackend

    if model == "smollm2":
        be_plain = TransformersBackend("embedded", device=device, batch_size=batch_size, prefix_sharing=False,
                                       dtype=dtype or "auto", forward="transformers")
        mdl, tok = be_plain.model, be_plain.tokenizer
    else:
        mdl, tok = make_random_llama(device, dtype or "bfloat16", shape=model.replace("-random", ""),
                                     tokenizer=tokenizer)
        be_plain = TransformersBackend.from_model(mdl, tok, model_id=model, device=device, batch_size=batch_size,
                                                  prefix_sharing=False, forward="transformers")
    be_shared = TransformersBackend.from_model(mdl, tok, model_id=model, device=device, batch_size=batch_size,
                                               prefix_sharing=True, compile=compile)
    lean = be_shared.info.extra["forward"] == "psychometrika"  # the lean forward runs the shared-prefix path
    extra = {"score_shared_prefix_hf": {"forward": "transformers"}} if lean else {}
    extra.update({f"score_shared_prefix[{v}]": parse_settings(v) for v in variants})
    known = {n for n, p in inspect.signature(TransformersBackend.from_model).parameters.items()
             if p.kind is p.KEYWORD_ONLY} - {"model_id", "device", "batch_size", "prefix_sharing"}
    for name, settings in extra.items():
        if set(settings) - known:
            raise ValueError(f"{name}: unknown setting(s) {sorted(set(settings) - known)}; variants may set "
                             f"{sorted(known)}")
    others = {name: TransformersBackend.from_model(mdl, tok, model_id=model, device=device, batch_size=batch_size,
                                                   prefix_sharing=True, **{"compile": compile, **settings})
              for name, settings in extra.items()}

    plan = workload_plan(n_items, n_orders)
    prompts = [tuple(m) for m in plan["messages"]]
    sreqs = [ScoreRequest(f"k{i}", p, tuple(c)) for i, (p, c) in enumerate(zip(prompts, plan["continuations"]))]
    n_gen = n_generate or max(4, len(prompts) // 8)
    gen_prompts = prompts[:n_gen]
    encoded = [list(tok(be_plain.render(p), add_special_tokens=False)["input_ids"]) for p in prompts]
    by_order = [encoded[i:i + n_items] for i in range(0, len(encoded), n_items)]
    prefix_tokens = float(np.mean([min(len(os.path.commonprefix([g[0], s])) for s in g[1:]) if len(g) > 1 else 0
                                   for g in by_order]))
    prompt_tokens = float(np.mean([len(e) for e in encoded])) + 1  # + the shared space before the option digit
    suffix_tokens = prompt_tokens - prefix_tokens
    results: list[MethodResult] = []
    logprobs: dict[str, list[list[float]]] = {}

    def timed(name, fn, items):
        _reset_peak(torch, device)
        t0 = time.perf_counter()
        choices = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        results.append(MethodResult(name, items, time.perf_counter() - t0, choices, _peak_mb(torch, device)))
        print_fn(f"# {name}: {results[-1].rate:.2f} items/s")  # as it goes: a run cut short keeps its numbers

    be_shared.score(sreqs[:2 * batch_size])  # warm-up (allocations, kernels, compilation)
    be_plain.score(sreqs[:batch_size])
    be_plain.generate([GenerateRequest("w", prompts[0], max_tokens=8)])
    displayed = [[texts[j] for j in perm] for texts, perm in zip(plan["option_texts"], plan["permutation"])]
    shown = [(labels_for(scheme, opts), opts) for scheme, opts in zip(plan["label_scheme"], displayed)]

    def gen(batch: int):
        def fn():
            out = []
            for i in range(0, len(gen_prompts), batch):
                reqs = [GenerateRequest(f"g{i + j}", p, max_tokens=8) for j, p in enumerate(gen_prompts[i:i + batch])]
                for j, r in enumerate(be_plain.generate(reqs)):
                    status, pos = parse_choice(r.text, *shown[i + j])
                    out.append(int(pos) if status == "ok" and pos is not None else -1)
            return out
        return fn

    def score(name, be):
        def fn():
            res = be.score(sreqs)
            logprobs[name] = [r.logprobs for r in res]
            return [int(np.argmax(r.logprobs)) if not r.error else -1 for r in res]
        return fn

    timed("generate_per_item", gen(1), len(gen_prompts))
    timed("generate_batched", gen(batch_size), len(gen_prompts))
    timed("score_batched", score("score_batched", be_plain), len(sreqs))
    timed("score_shared_prefix", score("score_shared_prefix", be_shared), len(sreqs))
    for name, be in others.items():  # each warmed up (and compiled) just before it is timed
        be.score(sreqs[:2 * batch_size])
        timed(name, score(name, be), len(sreqs))

    max_dlp = float(max(abs(a - b) for x, y in zip(logprobs["score_batched"], logprobs["score_shared_prefix"])
                        for a, b in zip(x, y)))
    by = {r.name: r for r in results}
    agree_scores = float(np.mean(np.equal(by["score_batched"].choices, by["score_shared_prefix"].choices)))
    g = by["generate_per_item"].choices
    agree_gen = float(np.mean(np.equal(g, by["score_shared_prefix"].choices[:len(g)])))
    n_params = sum(p.numel() for p in mdl.parameters())
    info = {"device": device, "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu",
            "model": model, "dtype": str(be_plain.dtype), "forward": be_shared.info.extra["forward"],
            "attention": be_shared.attention, "compile": compile, "variants": list(variants),
            "n_parameters": int(n_params), "prompts": len(prompts),
            "batch_size": batch_size, "mean_prompt_tokens": round(prompt_tokens, 1),
            "mean_shared_prefix_tokens": round(prefix_tokens, 1), "mean_suffix_tokens": round(suffix_tokens, 1),
            "torch": torch.__version__, "transformers": __import__("transformers").__version__,
            "threads": torch.get_num_threads()}
    # roofline (issue 8): peak dense bf16 FLOP/s / (2 x parameters x tokens each item must run)
    roof = {name: _H100_BF16_FLOPS / (2 * n_params * (suffix_tokens if name.startswith("score_shared_prefix")
                                                       else prompt_tokens)) for name in by}
    if device.startswith("cuda"):
        info["roofline_items_per_s"] = {"unshared": round(roof["score_batched"], 1),
                                        "shared_prefix": round(roof["score_shared_prefix"], 1)}
    print_fn(json.dumps(info))
    wide = max(22, *(len(r.name) + 2 for r in results))
    print_fn(f"{'method':<{wide}}{'items':>7}{'seconds':>10}{'items/s':>10}{'peak MB':>10}{'% roofline':>12}")
    out: dict[str, Any] = {"info": info, "methods": {}}
    for r in results:
        pct = 100 * r.rate / roof[r.name] if device.startswith("cuda") else None
        print_fn(f"{r.name:<{wide}}{r.items:>7}{r.seconds:>10.2f}{r.rate:>10.2f}{r.peak_mem_mb:>10.0f}"
                 f"{'' if pct is None else f'{pct:.1f}':>12}")
        out["methods"][r.name] = {"items": r.items, "seconds": r.seconds, "items_per_s": r.rate,
                                  "peak_mem_mb": r.peak_mem_mb, "pct_roofline": pct}
    speed = by["score_shared_prefix"].rate / by["generate_per_item"].rate
    print_fn(f"argmax agreement shared vs unshared scoring: {agree_scores:.3f} over {len(sreqs)} prompts "
             f"(max |d log-prob| {max_dlp:.2e}); generation vs scoring: {agree_gen:.3f}")
    print_fn(f"shared_prefix_vs_batched_scoring={by['score_shared_prefix'].rate / by['score_batched'].rate:.2f}")
    print_fn(f"speedup_vs_naive={speed:.2f}")
    out.update(agreement_scoring=agree_scores, agreement_generate=agree_gen, max_abs_dlogprob=max_dlp,
               speedup_vs_naive=speed)
    return out


def parse_settings(text: str) -> dict[str, Any]:
    """``"attention=matmul,compile=true"`` -> ``{"attention": "matmul", "compile": True}``."""
    out: dict[str, Any] = {}
    for part in filter(None, text.split(",")):
        key, sep, value = part.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"variant setting {part!r} is not KEY=VALUE")
        low = value.strip().lower()
        out[key.strip()] = {"true": True, "false": False}.get(low, int(low) if low.isdigit() else value.strip())
    return out


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--model", default="smollm2", help="smollm2 | llama3-8b-random | tiny-random")
    ap.add_argument("--items", type=int, default=22, help="items per option order")
    ap.add_argument("--orders", type=int, default=4)
    ap.add_argument("--generate", type=int, default=None, help="prompts for the generation baselines")
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--dtype", default=None)
    ap.add_argument("--tokenizer", default=None, help="tokenizer folder for random models (default: embedded)")
    ap.add_argument("--compile", action="store_true", help="torch.compile the lean forward's decoder layer")
    ap.add_argument("--variants", nargs="*", default=[], metavar="KEY=VALUE[,KEY=VALUE]",
                    help="also time shared-prefix scoring with these backend settings, e.g. attention=matmul "
                         "compile=true")
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args(argv)
    res = run(a.device, a.model, a.items, a.orders, a.generate, a.batch_size, a.dtype, a.tokenizer, a.compile,
              a.variants)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0
