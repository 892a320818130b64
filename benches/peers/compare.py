#!/usr/bin/env python3
"""Side by side: infobound bench --json output(s) and the peers' JSON lines -> markdown table of
steps/s, the ratio infobound / peer (above 1: infobound faster) and the estimate each reached.
Usage: compare.py INFOBOUND.json [INFOBOUND_CPU.json ...] -- PEERS.jsonl"""

import json
import sys


def main():
    args = sys.argv[1:]
    split = args.index("--")
    ours, peers = [], []
    for path in args[:split]:
        with open(path) as f:
            doc = json.load(f)
        for row in doc["rows"]:
            if row.get("error") is None:
                ours.append((doc["device"], row))
    for path in args[split + 1:]:
        with open(path) as f:
            peers += [json.loads(line) for line in f if line.strip()]
    print("| config | K | infobound device | steps/s | spread | samples/s | GFLOP/step | MB/step (min / act.) | floor ms (probes / act. / peak) | floor ÷ time | estimate | true MI |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for device, r in ours:
        ms = lambda v: "-" if v is None else f"{v * 1e3:.3f}"
        frac = "-" if r.get("floor_s") is None else f"{100 * r['floor_s'] * r['steps_per_s']:.1f} %"
        spread = (r["steps_per_s_max"] - r["steps_per_s_min"]) / r["steps_per_s"]
        print(
            f"| {r['config']} | {r['batch']} | {device} | {r['steps_per_s']:.3f} | {100 * spread:.0f} % | {r['samples_per_s']:.0f} "
            f"| {r['flops_per_step'] / 1e9:.3f} | {r['min_bytes_per_step'] / 1e6:.2f} / {r['activation_bytes_per_step'] / 1e6:.2f} "
            f"| {ms(r.get('floor_s'))} / {ms(r.get('activation_floor_s'))} / {ms(r.get('published_floor_s'))} | {frac} | {r['estimate']:.3f} | {r['true_mi']:.3f} |"
        )
    print()
    print("| config | K | GFLOP/step | floor ms (probes) | infobound device | steps/s | peer | peer steps/s | infobound ÷ peer | estimate infobound | estimate peer | true MI |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for device, r in ours:
        for p in peers:
            if p.get("config") != r["config"] or p.get("batch") != r["batch"]:
                continue
            floor = "-" if r.get("floor_s") is None else f"{r['floor_s'] * 1e3:.3f}"
            head = f"| {r['config']} | {r['batch']} | {r['flops_per_step'] / 1e9:.3f} | {floor} | {device} | {r['steps_per_s']:.2f}"
            name = p["peer"] + (" " + p["mode"] if "mode" in p else "") + f" ({p.get('device', '?')})"
            if p.get("error") or not p.get("steps_per_s"):
                print(f"{head} | {name} | failed: {p.get('error', 'no rate')} | | | | |")
                continue
            print(
                f"{head} | {name} | {p['steps_per_s']:.2f} "
                f"| {r['steps_per_s'] / p['steps_per_s']:.2f} | {r['estimate']:.3f} | {p['estimate']:.3f} | {r['true_mi']:.3f} |"
            )


if __name__ == "__main__":
    main()
