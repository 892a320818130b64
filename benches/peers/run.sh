#!/usr/bin/env bash
# Runs both sides on this machine and prints them side by side: `infobound bench --json` (the
# best adapter; where it refuses a configuration, e.g. the bmi one on a software adapter, that
# configuration again on the CPU reference backend), the PyTorch peer (torch_step.py) and the
# bmi benchmark's JAX estimator (bmi_peer.py). Needs benches/peers/setup.sh first.
#   SMOKE=1      tiny sizes and steps (seconds; not numbers to quote)
#   KS=64,256    batches of the standard configuration (default 64,256,1024,4096)
#   TRAIN_STEPS  steps before the estimates are read (default 2000, smoke 20)
#   OUT=dir      where the JSON goes (default target/bench-peers)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$here/../.."
py="${PEERS_VENV:-$here/.venv}/bin/python"
out="${OUT:-$root/target/bench-peers}"
mkdir -p "$out"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}"
if [ "${SMOKE:-0}" = 1 ]; then
    ks="${KS:-64,256}"; steps="${TRAIN_STEPS:-20}"; ours=(--smoke); peer=(--seconds 0.2 --repeats 2 --warmup 1)
    bmi=(--steps 60 --warm-steps 20 --n 2000)
else
    ks="${KS:-64,256,1024,4096}"; steps="${TRAIN_STEPS:-2000}"; ours=(); peer=()
    bmi=(--steps "$steps" --warm-steps 100)
fi
cd "$root"
cargo build --release --quiet
bin=target/release/infobound
echo "== infobound bench ($(date -u +%FT%TZ))" >&2
"$bin" bench --json "${ours[@]}" --ks "$ks" --train-steps "$steps" > "$out/infobound.json"
files=("$out/infobound.json")
if "$py" -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(r['config']=='bmi' and r['error'] for r in d['rows']) else 1)" "$out/infobound.json"; then
    echo "== the bmi configuration was refused on $("$py" -c "import json,sys; print(json.load(open(sys.argv[1]))['device'])" "$out/infobound.json"): CPU reference backend" >&2
    "$bin" bench --json "${ours[@]}" --device cpu --configs bmi --train-steps "$steps" > "$out/infobound-cpu.json"
    files+=("$out/infobound-cpu.json")
fi
echo "== PyTorch peer" >&2
"$py" "$here/torch_step.py" --ks "$ks" --train-steps "$steps" "${peer[@]}" > "$out/peers.jsonl"
echo "== bmi (JAX) peer" >&2
"$py" "$here/bmi_peer.py" "${bmi[@]}" >> "$out/peers.jsonl"
"$py" "$here/compare.py" "${files[@]}" -- "$out/peers.jsonl"
