#!/usr/bin/env bash
# Creates benches/peers/.venv (PEERS_VENV overrides) with the peers:
#  - the bmi benchmark's JAX estimators: benchmark-mi 0.1.3 on jax/jaxlib 0.4.30 (CPU);
#  - PyTorch from PyPI, with the CUDA libraries its Linux wheel depends on (a few GB; the wheel
#    does not import without them, even on a machine with no GPU): CPU here, CUDA where there is
#    a GPU and a driver.
#  - for python_peers.py: torch-mist 0.2.17 (needs numpy<2) and infobound's own Python package
#    built from python/ (maturin, release build of the extension);
#  - for python_peers.py --ray: a second venv inside the first, $venv/ray (PEERS_RAY_VENV
#    overrides), with Ray and infobound alone. Ray cannot share the first: benchmark-mi 0.1.3 pins pydantic<2, and
#    with pydantic 1 installed Ray 2.60's ray.init times out (its dashboard refuses pydantic 1).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${PEERS_VENV:-$here/.venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
pip="$venv/bin/pip"
"$pip" install -q "numpy<2" "jax==0.4.30" "jaxlib==0.4.30" "benchmark-mi==0.1.3"
# TORCH_INDEX=https://download.pytorch.org/whl/cpu (or cu124 …) picks another index where reachable.
"$pip" install -q ${TORCH_INDEX:+--index-url "$TORCH_INDEX"} torch
"$pip" install -q "torch-mist==0.2.17" maturin
PATH="$venv/bin:$PATH" "$pip" install -q --no-build-isolation "$here/../../python"
ray_venv="${PEERS_RAY_VENV:-$venv/ray}"
[ -x "$ray_venv/bin/python" ] || python3 -m venv "$ray_venv"
"$ray_venv/bin/pip" install -q numpy ray maturin
PATH="$ray_venv/bin:$PATH" "$ray_venv/bin/pip" install -q --no-build-isolation "$here/../../python"
"$ray_venv/bin/python" -c "import ray, infobound; print('ray', ray.__version__, '| infobound ok')"
"$venv/bin/python" -c "import torch, jax, bmi, torch_mist, infobound; print('torch', torch.__version__, 'cuda' if torch.cuda.is_available() else 'cpu', '| jax', jax.__version__, '| bmi ok')"
