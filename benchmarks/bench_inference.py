"""Four administration methods on the same prompts, side by side (see psychometrika.tools.bench).

    python benchmarks/bench_inference.py --device cpu
    python benchmarks/bench_inference.py --device cuda --model llama3-8b-random --items 44 --orders 24
"""

import sys

from psychometrika.tools.bench import main

if __name__ == "__main__":
    sys.exit(main())
