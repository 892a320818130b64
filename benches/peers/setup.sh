#!/usr/bin/env bash
# Creates benches/peers/.venv (PEERS_VENV overrides) with the peers:
#  - the bmi benchmark's JAX estimators: benchmark-mi 0.1.3 on jax/jaxlib 0.4.30 (CPU);
#  - PyTorch from PyPI, with the CUDA libraries its Linux wheel depends on (a few GB; the wheel
#    does not import without them, even on a machine with no GPU): CPU here, CUDA where there is
#    a GPU and a driver.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEERS_VENV:-$here/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip="$venv/bin/pip"
"$pip" install -q "numpy<2" "jax==0.4.30" "jaxlib==0.4.30" "benchmark-mi==0.1.3"
# TORCH_INDEX=https://download.pytorch.org/whl/cpu (or cu124 …) picks another index where reachable.
"$pip" install -q ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch
"$venv/bin/python" -c "import torch, jax, bmi; print('torch', torch.__version__, 'cuda' if torch.cuda.is_available() else 'cpu', '| jax', jax.__version__, '| bmi ok')"
