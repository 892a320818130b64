#!/usr/bin/env bash
# The benchmarks on a lent GPU machine (no network, no toolchain there), in two prepared parts
# of at most 5 minutes each, so that either can be rerun within a short rental:
#   here:   bash benches/device.sh --stage      # release build; copies the binaries and the
#                                               # bmi wheel to bench-bin/
#   there:  bash benches/device.sh kernels      # part 1: tune, then gemm and the fused kernels
#                                               # against the datasheet peak and the probes
#           bash benches/device.sh training     # part 2: the standard and bmi training steps
#                                               # against PyTorch (eager, CUDA graphs,
#                                               # torch.compile) and bmi's JAX estimator on the
#                                               # same GPU, and the replicas curve
# Carry bench-bin (and .gl, the Vulkan loader packages; see the device notes) with the run.
# Each part writes its tables under $OUT (or bench-out/) and prints them last.
# SMALL=1 runs both at small sizes (seconds on lavapipe): the check that the script works.
set -uo pipefail
cd "$(dirname "$0")/.."
part="${1:-}"
if [ "$part" = --stage ]; then
    set -e
    cargo build --release --bins
    cargo bench --no-run --bench kernels --bench fused
    mkdir -p bench-bin/wheels
    cp target/release/infobound bench-bin/
    for b in kernels fused; do
        cp "$(ls -t target/release/deps/$b-* | grep -v '\.d$' | head -1)" "bench-bin/$b"
    done
    # bmi is not on the device image: its wheel travels (no dependencies; the image has JAX).
    pip download -q --no-deps --dest bench-bin/wheels "benchmark-mi==0.1.3" \
        || echo "could not download bmi's wheel: part 2 will run without it" >&2
    ls -la bench-bin bench-bin/wheels
    exit 0
fi
case "$part" in
    kernels | training) ;;
    *) echo "usage: $0 --stage | kernels | training   (SMALL=1 for small sizes)" >&2; exit 2 ;;
esac
out="${OUT:-bench-out}"
mkdir -p "$out"
bin="${BENCH_BIN:-bench-bin}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -e "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$icd"; fi
export INFOBOUND_REQUIRE_GPU=1
# Tuning on, its cache beside the tables: part 2 uses what part 1 tuned (and tunes what it
# still needs at first use).
export INFOBOUND_TUNE=on INFOBOUND_TUNE_CACHE="$out/geometry-cache.json"
py="${PYTHON:-python3}"
small="${SMALL:-0}"

if [ "$part" = kernels ]; then
    "$bin/infobound" devices > "$out/devices.txt" 2>&1; cat "$out/devices.txt"
    nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem,temperature.gpu,power.draw \
        --format=csv > "$out/nvidia-smi.csv" 2>&1
    if [ "$small" = 1 ]; then
        ks=256; fused_ks="256 512"; smoke=(--smoke)
    else
        ks=1024,4096,16384; fused_ks="1024 4096 16384"; smoke=()
    fi
    timeout 100 "$bin/infobound" tune --ks "$ks" --es 32,128 --save "$out/geometry.json" \
        > "$out/tune.md" 2>&1
    timeout 80 "$bin/kernels" "${smoke[@]}" > "$out/kernels.md" 2>&1
    timeout 90 "$bin/fused" $fused_ks > "$out/fused.md" 2>&1
    tail -n +1 "$out/tune.md" "$out/kernels.md" "$out/fused.md"
    exit 0
fi

# Part 2: training steps, ours and the peers', on the same GPU.
# Timeouts: 80 + 60 + 50 + 40 + 50 s, under the part's 5 minutes.
if [ "$small" = 1 ]; then
    ours=(--smoke); timing=(--seconds 0.2 --repeats 2 --warmup 1); ks=64,256
    bmi=(--steps 300 --warm-steps 100 --n 2000); replicas=1,4,16; train_steps=20
else
    ours=(); timing=(); ks=64,256,1024,4096
    bmi=(--steps 2000 --warm-steps 250); replicas=1,4,16,64,256; train_steps=2000
fi
timeout 80 "$bin/infobound" bench --json "${ours[@]}" --train-steps "$train_steps" > "$out/bench.json" 2> "$out/bench.err"
timeout 60 "$bin/infobound" bench --replicas "$replicas" --seconds 1 --repeats 3 \
    > "$out/replicas.md" 2> "$out/replicas.err"
: > "$out/peers.jsonl"
if "$py" -c "import torch" 2> /dev/null; then
    # Eager, CUDA graphs and torch.compile on CUDA (torch_step.py's default there).
    timeout 50 "$py" benches/peers/torch_step.py --configs standard --ks "$ks" "${timing[@]}" \
        >> "$out/peers.jsonl" 2> "$out/torch.err"
    timeout 40 "$py" benches/peers/torch_step.py --configs bmi --train-steps "$train_steps" "${timing[@]}" \
        >> "$out/peers.jsonl" 2>> "$out/torch.err"
else
    echo "no PyTorch in $py: its peer is left out" > "$out/torch.err"
fi
# bmi from its wheel (bench-bin/wheels), on the image's JAX.
site="$out/bmi-site"
if ls "$bin"/wheels/*.whl > /dev/null 2>&1; then
    "$py" -m pip install -q --no-deps --no-index --target "$site" "$bin"/wheels/*.whl > "$out/bmi.err" 2>&1
fi
if PYTHONPATH="$site:${PYTHONPATH:-}" "$py" -c "import jax, bmi" 2>> "$out/bmi.err"; then
    PYTHONPATH="$site:${PYTHONPATH:-}" timeout 50 "$py" benches/peers/bmi_peer.py "${bmi[@]}" \
        >> "$out/peers.jsonl" 2>> "$out/bmi.err"
else
    echo "no bmi (or JAX) importable: its peer is left out" >> "$out/bmi.err"
fi
if [ -s "$out/bench.json" ]; then
    "$py" benches/peers/compare.py "$out/bench.json" -- "$out/peers.jsonl" > "$out/bench.md" 2>&1
else
    { echo "infobound bench wrote nothing (timed out?):"; cat "$out/bench.err"; } > "$out/bench.md"
fi
tail -n +1 "$out/bench.md" "$out/replicas.md" "$out/torch.err" "$out/bmi.err"
