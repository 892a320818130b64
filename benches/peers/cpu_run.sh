#!/usr/bin/env bash
# The fast CPU backend against its peers on this machine's CPU, one side after the other in one
# run (BENCHMARKS.md, "The fast CPU backend"): `infobound bench --device cpu` (its JSON carries
# the CPU's own FMA and copy probes), the PyTorch peer on the CPU, and bmi's JAX estimator, each
# at the standard configuration and at the bmi configuration on its 1-nat Gaussian and on bmi's
# 0.593-nat multinormal-dense-5-5-0.5 (bmi-dense), 10 000 steps. Each command's line in
# $OUT/log.txt has its wall seconds and the load average before and after it (the machine may
# be shared). Needs benches/peers/setup.sh first.
#   THREADS=N      threads of infobound and of torch (default: one a core)
#   STEPS=N        steps of the bmi configurations, every side (default 10000)
#   KS=64,256      batches of the standard configuration (default 64,256,1024,4096)
#   OUT=dir        where the JSON and the log go (default target/bench-cpu)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${PEERS_VENV:-$here/.venv}/bin/python"
out="${OUT:-$root/target/bench-cpu}"
threads="${THREADS:-$(nproc)}"
steps="${STEPS:-10000}"
ks="${KS:-64,256,1024,4096}"
mkdir -p "$out"
log="$out/log.txt"
: > "$log"
cd "$root"

# Runs "$@" with stdout to the file $1's name, and logs its wall time and the load around it.
side() {
    local file="$1"; shift
    local before after t0 t1
    before="$(cut -d' ' -f1-3 /proc/loadavg)"
    t0="$(date +%s.%N)"
    "$@" > "$out/$file"
    t1="$(date +%s.%N)"
    after="$(cut -d' ' -f1-3 /proc/loadavg)"
    printf '%s | %s | wall %.1f s | load before %s | after %s\n' \
        "$(date -u +%FT%TZ)" "$*" "$(awk "BEGIN { print $t1 - $t0 }")" "$before" "$after" | tee -a "$log" >&2
}

echo "$(date -u +%FT%TZ) start; $(nproc) CPUs: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)" | tee -a "$log" >&2
cargo build --release --quiet
bin=target/release/infobound
side ours-standard.json "$bin" bench --json --device cpu --threads "$threads" --configs standard --ks "$ks"
side ours-bmi.json "$bin" bench --json --device cpu --threads "$threads" --configs bmi,bmi-dense --train-steps "$steps"
side torch-standard.jsonl "$py" "$here/torch_step.py" --device cpu --threads "$threads" --configs standard --ks "$ks"
side torch-bmi.jsonl "$py" "$here/torch_step.py" --device cpu --threads "$threads" --configs bmi,bmi-dense --train-steps "$steps"
# bmi trains every step (--no-early-stop), so that its 10 000 steps are 10 000; then its
# default call (max_n_steps = 10 000, early stopping), as a user gets it.
side bmi.json "$py" "$here/bmi_peer.py" --steps "$steps" --warm-steps 250 --no-early-stop
side bmi-dense.json "$py" "$here/bmi_peer.py" --steps "$steps" --warm-steps 250 --no-early-stop --task multinormal-dense-5-5-0.5
side bmi-default.json "$py" "$here/bmi_peer.py" --steps "$steps" --warm-steps 250
side bmi-dense-default.json "$py" "$here/bmi_peer.py" --steps "$steps" --warm-steps 250 --task multinormal-dense-5-5-0.5
echo "$(date -u +%FT%TZ) done" | tee -a "$log" >&2
