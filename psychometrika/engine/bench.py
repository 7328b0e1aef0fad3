"""Inference benchmark: four ways to administer the same questionnaire prompts, measured side by side.

Methods (same prompts, same dtype, one process):

1. ``generate_per_item`` -- naive baseline: one prompt at a time, greedy generation of 8 tokens;
2. ``generate_batched`` -- the same generation in padded batches;
3. ``score_batched`` -- one forward pass per prompt, next-token log-probs of the option labels, batched
   (lm-eval-harness style loglikelihood);
4. ``score_shared_prefix`` -- the same scoring with the shared prefix (system prompt, persona, instructions,
   response scale) computed once per group and its KV cache reused for every item suffix.

Prints items/s, agreement of choices between methods, peak memory, % of the compute roofline on GPU, and a
last line ``speedup_vs_naive=<x>`` (shared-prefix scoring / per-item generation).

Usage: ``python benchmarks/bench_inference.py --device cpu`` or ``psychometrika bench --device cuda --model
llama3-8b-random``.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Published item phrases (BFI-style stems) used only as benchmark text.
_ITEMS = ["is talkative", "tends to find fault with others", "does a thorough job", "is depressed, blue",
          "is original, comes up with new ideas", "is reserved", "is helpful and unselfish with others",
          "can be somewhat careless", "is relaxed, handles stress well", "is curious about many different things",
          "is full of energy", "starts quarrels with others", "is a reliable worker", "can be tense",
          "is ingenious, a deep thinker", "generates a lot of enthusiasm", "has a forgiving nature",
          "tends to be disorganized", "worries a lot", "has an active imagination", "tends to be quiet",
          "is generally trusting"]
_SCALE = ["Disagree strongly", "Disagree a little", "Neither agree nor disagree", "Agree a little",
          "Agree strongly"]
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


def workload(n_items: int, n_orders: int = 4) -> list[tuple[dict, ...]]:
    """Prompts with a ~140-token shared prefix (system + instructions + scale) and a ~30-token item suffix,
    BFI-like items x option orders (cyclic shifts of the scale)."""
    prompts = []
    system = ("You are taking part in a personality study. Answer every question honestly, as the person you "
              "are, without explaining your answer. There are no right or wrong answers; we are interested in how "
              "you see yourself in general, not in a particular situation.")
    for o in range(n_orders):
        labels = _SCALE[o:] + _SCALE[:o]
        scale = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(labels))
        instr = ("Here are a number of characteristics that may or may not apply to you. Please indicate the "
                 "extent to which you agree or disagree with each statement, using the response options "
                 f"below.\n\nResponse options:\n{scale}\n\n")
        for j in range(n_items):
            it = _ITEMS[j % len(_ITEMS)]
            user = instr + (f"Statement {j + 1}: I see myself as someone who {it}. Which option describes you "
                            "best? Answer with the number of one option only.")
            prompts.append(({"role": "system", "content": system}, {"role": "user", "content": user},
                            {"role": "assistant", "content": "Answer:"}))
    return prompts


def _peak_mb(torch, device: str) -> float:
    if device.startswith("cuda"):
        return torch.cuda.max_memory_allocated() / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _reset_peak(torch, device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()


def make_random_llama(device: str, dtype: str = "bfloat16", shape: str = "llama3-8b"):
    """A random-weight Llama of a real shape (throughput is what is measured) with the embedded tokenizer."""
    import torch
    from transformers import AutoTokenizer, LlamaConfig, LlamaForCausalLM

    from ..backends.embedded import embedded_gguf

    gguf = embedded_gguf()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    shapes = {"llama3-8b": dict(hidden_size=4096, intermediate_size=14336, num_hidden_layers=32,
                                num_attention_heads=32, num_key_value_heads=8),
              "tiny": dict(hidden_size=256, intermediate_size=512, num_hidden_layers=2, num_attention_heads=4,
                           num_key_value_heads=2)}
    cfg = LlamaConfig(vocab_size=max(len(tok), 49152), max_position_embeddings=4096, rope_theta=500000.0,
                      **shapes[shape])
    with torch.device(device):
        model = LlamaForCausalLM(cfg).to(getattr(torch, dtype)).eval()
    return model, tok


def run(device: str = "cpu", model: str = "smollm2", n_items: int = 22, n_orders: int = 4,
        n_generate: int | None = None, batch_size: int = 16, dtype: str | None = None,
        print_fn=print) -> dict[str, Any]:
    """Run the four methods; returns a dict of results (also printed)."""
    import torch

    from ..backends.base import GenerateRequest, ScoreRequest
    from ..backends.hf import TransformersBackend
    from ..plan.parsing import parse_choice

    if model == "smollm2":
        be_plain = TransformersBackend("embedded", device=device, batch_size=batch_size, prefix_sharing=False,
                                       dtype=dtype or "auto")
    else:
        be_plain = TransformersBackend.__new__(TransformersBackend)
        mdl, tok = make_random_llama(device, dtype or "bfloat16", shape=model.replace("-random", ""))
        if tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        be_plain.__dict__.update(_torch=torch, model=mdl, tokenizer=tok, device=device, batch_size=batch_size,
                                 prefix_sharing=False, min_prefix=16, max_length=4096, dtype=dtype or "bfloat16",
                                 has_chat_template=bool(getattr(tok, "chat_template", None)))
    be_shared = TransformersBackend.__new__(TransformersBackend)
    be_shared.__dict__.update(be_plain.__dict__)
    be_shared.prefix_sharing = True

    prompts = workload(n_items, n_orders)
    conts = tuple(f" {k}" for k in range(1, 6))
    sreqs = [ScoreRequest(f"k{i}", p, conts) for i, p in enumerate(prompts)]
    n_gen = n_generate or max(4, len(prompts) // 8)
    gen_prompts = prompts[:n_gen]
    n_prompt_tokens = [be_plain.count_tokens(p) for p in prompts]
    prefix_tokens = be_plain.count_tokens(prompts[0][:1]) if prompts else 0
    results: list[MethodResult] = []

    def timed(name, fn, items):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        _reset_peak(torch, device)
        t0 = time.perf_counter()
        choices = fn()
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        results.append(MethodResult(name, items, time.perf_counter() - t0, choices, _peak_mb(torch, device)))

    be_plain.score(sreqs[:2])  # warm-up (allocations, kernels)
    labels = [str(k) for k in range(1, 6)]

    def gen(batch: int):
        def fn():
            out = []
            for i in range(0, len(gen_prompts), batch):
                reqs = [GenerateRequest(f"g{i + j}", p, max_tokens=8) for j, p in enumerate(gen_prompts[i:i + batch])]
                for r in be_plain.generate(reqs):
                    status, pos = parse_choice(r.text, labels, _SCALE)
                    out.append(int(pos) if status == "ok" and pos is not None else -1)
            return out
        return fn

    def score(be):
        return lambda: [int(np.argmax(r.logprobs)) if not r.error else -1 for r in be.score(sreqs)]

    timed("generate_per_item", gen(1), len(gen_prompts))
    timed("generate_batched", gen(batch_size), len(gen_prompts))
    timed("score_batched", score(be_plain), len(sreqs))
    timed("score_shared_prefix", score(be_shared), len(sreqs))

    plain_lp = [r.logprobs for r in be_plain.score(sreqs[:32])]
    shared_lp = [r.logprobs for r in be_shared.score(sreqs[:32])]
    max_dlp = float(max(abs(a - b) for x, y in zip(plain_lp, shared_lp) for a, b in zip(x, y)))
    by = {r.name: r for r in results}
    agree_scores = float(np.mean(np.equal(by["score_batched"].choices, by["score_shared_prefix"].choices)))
    g = by["generate_per_item"].choices
    agree_gen = float(np.mean(np.equal(g, by["score_shared_prefix"].choices[:len(g)])))
    n_params = sum(p.numel() for p in be_plain.model.parameters())
    info = {"device": device, "model": model, "dtype": str(be_plain.dtype), "n_parameters": int(n_params),
            "prompts": len(prompts), "mean_prompt_tokens": float(np.mean(n_prompt_tokens)),
            "system_prefix_tokens": prefix_tokens, "torch": torch.__version__,
            "threads": torch.get_num_threads()}
    print_fn(json.dumps(info))
    print_fn(f"{'method':<22}{'items':>7}{'seconds':>10}{'items/s':>10}{'peak MB':>10}{'% roofline':>12}")
    mean_suffix = float(np.mean(n_prompt_tokens)) - 0  # scored tokens per item, upper bound
    out: dict[str, Any] = {"info": info, "methods": {}}
    for r in results:
        roof = ""
        if device.startswith("cuda"):
            tokens = mean_suffix
            roofline = _H100_BF16_FLOPS / (2 * n_params * tokens)
            roof = f"{100 * r.rate / roofline:.1f}"
        print_fn(f"{r.name:<22}{r.items:>7}{r.seconds:>10.2f}{r.rate:>10.2f}{r.peak_mem_mb:>10.0f}{roof:>12}")
        out["methods"][r.name] = {"items": r.items, "seconds": r.seconds, "items_per_s": r.rate,
                                  "peak_mem_mb": r.peak_mem_mb}
    speed = by["score_shared_prefix"].rate / by["generate_per_item"].rate
    print_fn(f"argmax agreement shared vs unshared scoring: {agree_scores:.3f} "
             f"(max |d log-prob| {max_dlp:.2e}); generation vs scoring: {agree_gen:.3f}")
    print_fn(f"shared_prefix_vs_batched_scoring={by['score_shared_prefix'].rate / by['score_batched'].rate:.2f}")
    print_fn(f"speedup_vs_naive={speed:.2f}")
    out.update(agreement_scoring=agree_scores, agreement_generate=agree_gen, max_abs_dlogprob=max_dlp,
               speedup_vs_naive=speed)
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
    ap.add_argument("--json", default=None, help="also write the results here")
    a = ap.parse_args(argv)
    res = run(a.device, a.model, a.items, a.orders, a.generate, a.batch_size, a.dtype)
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(res, fh, indent=2)
    return 0
