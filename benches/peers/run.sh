#!/usr/bin/env bash
# Runs both sides on this machine and prints them side by side: `infobound bench --json` (the
# best adapter; should it refuse the bmi configuration, that one on the CPU reference backend), the PyTorch peer (torch_step.py) and the bmi benchmark's JAX
# estimator (bmi_peer.py). Needs benches/peers/setup.sh first.
#   SMOKE=1          tiny sizes and steps (seconds; not numbers to quote)
#   KS=64,256        batches of the standard configuration (default 64,256,1024,4096)
#   TRAIN_STEPS=N    standard configuration: steps before its estimate is read (default: none
#                    beyond the timed ones, so its estimate column is not an accuracy figure)
#   BMI_STEPS=N      bmi configuration: steps of both sides before the estimate (default 2000)
#   OUT=dir          where the JSON goes (default target/bench-peers)
#   TORCH_THREADS=N  CPU threads of the PyTorch peer (default: torch's choice)
#   PYTHON_PEERS=1   also the Python packages side by side (python_peers.py: infobound.estimate,
#                    bmi's InfoNCE, torch-mist's estimate_mi on bmi's tasks; then estimate_many
#                    on a local Ray cluster), markdown to $OUT/python-peers.md
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PEERS_VENV:-$here/.venv}/bin/python"
out="${OUT:-$root/target/bench-peers}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ "${SMOKE:-0}" = 1 ]; then
    ks="${KS:-64,256}"; bmi_steps="${BMI_STEPS:-500}"; ours=(--smoke); peer=(--seconds 0.2 --repeats 2 --warmup 1)
    bmi=(--steps "$bmi_steps" --warm-steps 250 --n 2000)
else
    ks="${KS:-64,256,1024,4096}"; bmi_steps="${BMI_STEPS:-2000}"; ours=(); peer=()
    bmi=(--steps "$bmi_steps" --warm-steps 250)
fi
train=(--train-steps "${TRAIN_STEPS:-0}")
[ -n "${TORCH_THREADS:-}" ] && peer+=(--threads "$TORCH_THREADS")
cd "$root"
cargo build --release --quiet
bin=target/release/infobound
echo "== infobound bench, standard configuration ($(date -u +%FT%TZ))" >&2
"$bin" bench --json "${ours[@]}" --configs standard --ks "$ks" "${train[@]}" > "$out/infobound.json"
echo "== infobound bench, bmi configuration" >&2
"$bin" bench --json "${ours[@]}" --configs bmi --train-steps "$bmi_steps" > "$out/infobound-bmi.json"
files=("$out/infobound.json" "$out/infobound-bmi.json")
if "$py" -c "import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))['rows'][0]['error'] else 1)" "$out/infobound-bmi.json"; then
    echo "== the adapter refused the bmi configuration: CPU reference backend" >&2
    "$bin" bench --json "${ours[@]}" --device cpu --configs bmi --train-steps "$bmi_steps" > "$out/infobound-bmi-cpu.json"
    files+=("$out/infobound-bmi-cpu.json")
fi
echo "== PyTorch peer" >&2
"$py" "$here/torch_step.py" --configs standard --ks "$ks" "${train[@]}" "${peer[@]}" > "$out/peers.jsonl"
"$py" "$here/torch_step.py" --configs bmi --train-steps "$bmi_steps" "${peer[@]}" >> "$out/peers.jsonl"
echo "== bmi (JAX) peer" >&2
"$py" "$here/bmi_peer.py" "${bmi[@]}" >> "$out/peers.jsonl"
"$py" "$here/compare.py" "${files[@]}" -- "$out/peers.jsonl"
if [ "${PYTHON_PEERS:-0}" = 1 ]; then
    echo "== Python packages side by side, then estimate_many on Ray" >&2
    ray_py="${PEERS_RAY_VENV:-${PEERS_VENV:-$here/.venv}/ray}/bin/python"
    { "$py" "$here/python_peers.py" --json "$out/python-peers.jsonl"; "$ray_py" "$here/python_peers.py" --ray; } \
        > "$out/python-peers.md"
    cat "$out/python-peers.md"
fi
