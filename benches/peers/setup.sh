#!/usr/bin/env bash
# Creates benches/peers/.venv (PEERS_VENV overrides) with the peers:
#  - the bmi benchmark's JAX estimators: benchmark-mi 0.1.3 on jax/jaxlib 0.4.30 (CPU);
#  - PyTorch. TORCH=cpu (the default without an NVIDIA driver) installs the PyPI wheel without
#    its CUDA libraries (several GB, useless without a GPU) plus its pure-Python dependencies;
#    TORCH=cuda (the default where `nvidia-smi` works) installs it with them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEERS_VENV:-$here/.venv}"
if [ -z "${TORCH:-}" ]; then
    if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi >/dev/null 2>&1; then TORCH=cuda; else TORCH=cpu; fi
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip="$venv/bin/pip"
"$pip" install -q "numpy<2" "jax==0.4.30" "jaxlib==0.4.30" "benchmark-mi==0.1.3"
if [ "$TORCH" = cuda ]; then
    "$pip" install -q torch
else
    "$pip" install -q --no-deps torch
    "$pip" install -q filelock typing-extensions sympy networkx jinja2 fsspec setuptools
fi
"$venv/bin/python" -c "import torch, jax, bmi; print('torch', torch.__version__, 'cuda' if torch.cuda.is_available() else 'cpu', '| jax', jax.__version__, '| bmi ok')"
