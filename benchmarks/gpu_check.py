"""Issue 8's GPU measurement as one prepared command for a lent GPU machine (see docs/benchmarks.md).

Here (once; the GPU image has torch and transformers but not the embedded model's package)::

    python benchmarks/gpu_check.py --prepare          # saves the embedded tokenizer to .gpu-carry/tokenizer

On the device (the tool's ``run``, carrying ``.gpu-carry``, one call)::

    PYTHONPATH=$PWD python benchmarks/gpu_check.py --out $OUT

runs ``bench_inference`` on the random-weight Llama-3-8B shape in bf16 (1,056 prompts: 44 items x 24 option
orders) in one process: the four methods with the default settings, then shared-prefix scoring with
``attention=matmul`` and with ``compile=true`` as side-by-side variants, writing the JSON to ``--out``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TOKENIZER = ROOT / ".gpu-carry" / "tokenizer"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prepare", action="store_true", help="save the embedded tokenizer for carrying")
    ap.add_argument("--out", default=".", help="folder for the JSON results")
    ap.add_argument("--batch-size", type=int, default=256)
    ap.add_argument("--skip-compile", action="store_true", help="no compiled variant")
    ap.add_argument("--device", default="cuda", help="cpu with --model tiny-random is a dry run of this script")
    ap.add_argument("--model", default="llama3-8b-random")
    ap.add_argument("--items", default="44")
    ap.add_argument("--orders", default="24")
    a = ap.parse_args(argv)
    from psychometrika.backends import bench

    if a.prepare:
        bench.load_tokenizer().save_pretrained(TOKENIZER)
        print(f"saved {TOKENIZER}; carry .gpu-carry")
        return 0
    import torch

    name = torch.cuda.get_device_name().split()[-1].lower() if a.device.startswith("cuda") else "cpu"
    out = Path(a.out) / f"{name}-{a.model}-b{a.batch_size}.json"
    argv = ["--device", a.device, "--model", a.model, "--items", a.items, "--orders", a.orders,
            "--batch-size", str(a.batch_size), "--tokenizer", str(TOKENIZER), "--json", str(out),
            "--variants", "attention=matmul"] + ([] if a.skip_compile else ["compile=true"])
    print(f"== {' '.join(argv)}", flush=True)
    bench.main(argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
