#!/usr/bin/env bash
# The Rust side of the benchmarks on a lent GPU machine (no network, no toolchain there), as one
# prepared run. Two steps:
#   here:   benches/device.sh --stage        # release build; copies the binaries to bench-bin/
#   there:  bash benches/device.sh           # carry bench-bin (and .gl: the Vulkan loader
#                                            # packages, see the device notes) with the run
# There it writes under $OUT (or bench-out/): devices.txt, nvidia-smi.csv, kernels.md, fused.md,
# bench.json and bench.md (its rows with the cost model), replicas.md (bench --replicas), and prints the tables last. The peers (PyTorch, JAX) need a venv of several GB and
# PyPI, so they run where those are reachable (benches/peers/run.sh), not here.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ "${1:-}" = --stage ]; then
    set -e
    cargo build --release --bins
    cargo bench --no-run --bench kernels --bench fused
    mkdir -p bench-bin
    cp target/release/infobound bench-bin/
    for b in kernels fused; do
        cp "$(ls -t target/release/deps/$b-* | grep -v '\.d$' | head -1)" "bench-bin/$b"
    done
    ls -la bench-bin
    exit 0
fi
out="${OUT:-bench-out}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ -d .gl ]; then
    for f in .gl/*.deb; do dpkg -x "$f" /; done
    ldconfig
fi
icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -e "$icd" ] && [ -z "${VK_DRIVER_FILES:-}" ]; then export VK_DRIVER_FILES="$icd"; fi
export INFOBOUND_REQUIRE_GPU=1
bench-bin/infobound devices > "$out/devices.txt" 2>&1; cat "$out/devices.txt"
nvidia-smi --query-gpu=name,clocks.sm,clocks.mem,temperature.gpu,power.draw --format=csv > "$out/nvidia-smi.csv" 2>&1
# Well under the 600 s a device command may run, with the machine's start on top.
timeout 200 bench-bin/kernels > "$out/kernels.md" 2>&1
timeout 90 bench-bin/fused 1024 4096 16384 > "$out/fused.md" 2>&1
timeout 200 bench-bin/infobound bench --json > "$out/bench.json" 2> "$out/bench.err"
# Replicas side by side against sequential runs: where the device fills up.
timeout 150 bench-bin/infobound bench --replicas 1,4,16,64,256 --seconds 1 --repeats 3 \
    > "$out/replicas.md" 2> "$out/replicas.err"
if [ -s "$out/bench.json" ]; then
    python3 benches/peers/compare.py "$out/bench.json" -- > "$out/bench.md" 2>&1
else
    { echo "infobound bench wrote nothing (timed out?):"; cat "$out/bench.err"; } > "$out/bench.md"
fi
tail -n +1 "$out/kernels.md" "$out/fused.md" "$out/bench.md" "$out/replicas.md"
