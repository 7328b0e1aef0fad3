"""Where the time goes in shared-prefix scoring on a GPU: phases of ``score()``, a raw forward pass of the same
shape, the GEMMs alone, and (``--compile``) the same under ``torch.compile``. Numbers: docs/benchmarks.md.

    python benchmarks/profile_shared_prefix.py [--tokenizer FOLDER] [--compile]
"""
import argparse
import time

import torch
from psychometrika.tools.bench import make_random_llama, workload
from psychometrika.backends.hf import TransformersBackend
from psychometrika.backends.base import ScoreRequest
from transformers import DynamicCache

ap = argparse.ArgumentParser()
ap.add_argument("--tokenizer", default=None, help="tokenizer folder (default: the embedded model's)")
ap.add_argument("--compile", action="store_true")
args = ap.parse_args()
mdl, tok = make_random_llama("cuda", "bfloat16", "llama3-8b", tokenizer=args.tokenizer)
ps = workload(44, 24)
reqs = [ScoreRequest(f"k{i}", p, tuple(f" {k}" for k in range(1, 6))) for i, p in enumerate(ps)]
sync = torch.cuda.synchronize
be = TransformersBackend.from_model(mdl, tok, device="cuda", batch_size=352, prefix_sharing=True)
be.score(reqs[:400])
T = {}
def wrap(obj, name):
    fn = getattr(obj, name)
    def w(*a, **k):
        sync(); t = time.perf_counter(); r = fn(*a, **k); sync(); T[name] = T.get(name, 0) + time.perf_counter() - t; return r
    setattr(obj, name, w)
for n in ("_encode_many", "render", "_prefix_cache", "_score_suffixes"):
    wrap(be, n)
wrap(mdl, "forward")
sync(); t = time.perf_counter(); be.score(reqs); sync(); T["score total"] = time.perf_counter() - t
print("breakdown", {k: round(v, 3) for k, v in T.items()}, flush=True)
del mdl.forward
from torch.nn.attention import SDPBackend, sdpa_kernel
x = torch.randint(100, 40000, (1, 142), device="cuda")
for b, w in ((352, 31), (512, 31)):
    s = torch.randint(100, 40000, (b, w), device="cuda")
    with torch.inference_mode(), sdpa_kernel([SDPBackend.FLASH_ATTENTION, SDPBackend.EFFICIENT_ATTENTION]):
        pkv = mdl(input_ids=x, use_cache=True).past_key_values
        for mode in ("nomask", "mask"):
            ts = []
            for rep in range(3):
                sync(); t = time.perf_counter()
                c = DynamicCache()
                for li, l in enumerate(pkv.layers):
                    c.update(l.keys.expand(b, -1, -1, -1), l.values.expand(b, -1, -1, -1), li)
                kw = {}
                if mode == "mask":
                    kw["attention_mask"] = torch.ones((b, 142 + w), dtype=torch.long, device="cuda")
                    kw["position_ids"] = torch.arange(142, 142 + w, device="cuda").expand(b, -1)
                mdl(input_ids=s, past_key_values=c, use_cache=True, logits_to_keep=2, **kw)
                sync(); ts.append(time.perf_counter() - t)
            print(f"raw forward b={b} w={w} {mode}: {min(ts):.3f} s = {b / min(ts):.0f} items/s", flush=True)
        # the MLP/attention linear layers alone: the GEMM ceiling
        h = torch.randn(b * w, 4096, device="cuda", dtype=torch.bfloat16)
        lay = mdl.model.layers[0]
        for rep in range(3):
            sync(); t = time.perf_counter()
            for _ in range(32):
                q = lay.self_attn.q_proj(h); k = lay.self_attn.k_proj(h); v = lay.self_attn.v_proj(h); o = lay.self_attn.o_proj(q)
                g = lay.mlp.gate_proj(h); u = lay.mlp.up_proj(h); d = lay.mlp.down_proj(g)
            sync(); dt = time.perf_counter() - t
        fl = 2 * b * w * 32 * (4096 * 4096 * 2 + 4096 * 1024 * 2 + 3 * 4096 * 14336)
        print(f"GEMMs only b={b}: {dt:.3f} s, {fl / dt / 1e12:.0f} TFLOP/s, = {b / dt:.0f} items/s", flush=True)
if args.compile:
    t = time.perf_counter()
    mdl.forward = torch.compile(mdl.forward, dynamic=True)
    be2 = TransformersBackend.from_model(mdl, tok, device="cuda", batch_size=352, prefix_sharing=True)
    be2.score(reqs[:400]); sync(); print("compile+warm", round(time.perf_counter() - t, 1), flush=True)
    for rep in range(2):
        sync(); t = time.perf_counter(); be2.score(reqs); sync()
        print(f"compiled score: {len(reqs) / (time.perf_counter() - t):.1f} items/s", flush=True)
