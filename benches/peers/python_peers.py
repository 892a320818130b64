#!/usr/bin/env python3
"""infobound's Python package beside the Python peers, on the same samples of tasks with known MI.

Estimators, each with its defaults (what a user gets from one call):
  - infobound.estimate(x, y, device=d): SMILE (tau = 5), separable critic (128, 128) towers
    with a 32-wide embedding, batch 128, 2000 steps, Adam 1e-3, rank-gauss transform, 20 %
    held out; the estimate is its held-out read-out. d is "cpu" (the fast f32 CPU backend),
    plus "auto" when "auto" picks something else (a hardware adapter); --devices adds others
    ("gpu" for the adapter even when it is a software one).
  - bmi's InfoNCEEstimator (benchmark-mi 0.1.3, JAX on the CPU): concat critic (16, 8) ReLU
    on all K^2 pairs, K = 256, Adam 0.1, at most 10 000 steps, 50 % held out, standardised;
    its estimate is the best held-out InfoNCE value of its checks every 250 steps, and it stops
    early once two checks in a row bring no new best (--bmi-steps changes the cap).
  - torch-mist 0.2.17's estimate_mi(data=(x, y), test_data=held out): its default estimator
    "smile" (tau = 5, joint critic, hidden_dims [128], one negative a sample), batch 128, at
    most 5000 iterations, Adam 5e-4, early stopping on a 10 % validation split of the training
    rows (patience: 2 % of the epochs, at least 1, so it stops at the first epoch whose
    validation score does not improve). It is given the last 20 % of the rows as test_data, as
    its documentation asks (its default, test_data=None, estimates on the training rows and
    warns); --mist-iterations changes the iteration cap. A second row runs the same with
    early_stopping=False for 2000 iterations (infobound's default steps; --mist-long-iterations
    changes them, --skip mist-no-early-stop leaves the row out), since with the default
    patience it may stop after a few epochs.

Tasks: bmi's own task definitions (bmi.benchmark.BENCHMARK_TASKS), which give the samples
(task.sample(n, seed)) and the closed-form MI. Every estimator gets the same n rows of a task.

Seconds: wall clock around the one call (bmi's includes its jit compilation, done anew for each
task's shapes, and its held-out checks; torch-mist's its validation and test evaluation;
infobound's its rank-gauss transform and held-out evaluation). Thread counts: infobound's
from its report; torch's torch.get_num_threads(); JAX's XLA pool takes every core it sees.

Prints a markdown table (and, with --json FILE, one JSON object a row). Run it with the
python of the venv benches/peers/setup.sh makes (benches/peers/.venv), or of any venv with
infobound, benchmark-mi, jax/jaxlib, torch and torch-mist; `PYTHON_PEERS=1 run.sh` runs both
modes.

--ray, instead: infobound.estimate_many of 12 pairs (four shapes) on a local Ray cluster
(ray.init(num_cpus=2)) against the same local estimate_many and 12 sequential
infobound.estimate calls: wall times, and whether every report is bit for bit the sequential
one. Needs Ray and infobound only; run it with the python of setup.sh's second venv
(benches/peers/.venv/ray): Ray does not start beside benchmark-mi's pydantic 1.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import platform
import sys
import time
import warnings

import numpy as np

DEFAULT_TASKS = [
    "1v1-normal-0.75",  # Gaussian 1 x 1, rho = 0.75
    "multinormal-dense-5-5-0.5",  # Gaussian 5 x 5, every pair correlated 0.5
    "multinormal-sparse-25-25-2-2.0",  # Gaussian 25 x 25, two strongly correlated pairs
    "student-identity-5-5-2",  # Student-t 5 x 5, 2 degrees of freedom (heavy tails)
    "half_cube-multinormal-sparse-5-5-2-2.0",  # Gaussian 5 x 5 through x |x|^(1/2) each coordinate
]


def quiet():
    """Silences a peer's prints (bmi and torch-mist print progress and notices)."""
    return contextlib.redirect_stdout(io.StringIO())


def run_infobound(x, y, device, seed):
    import infobound

    t = time.perf_counter()
    rep = infobound.estimate(x, y, device=device, seed=seed)
    secs = time.perf_counter() - t
    return dict(
        estimate=float(rep.mi),
        std_err=float(rep.std_err),
        seconds=secs,
        threads=rep.device,
        settings=f"smile, separable, {rep.steps} steps, K = {rep.to_dict()['batch']}",
        device=rep.device,
    )


def run_bmi(x, y, steps, seed):
    from bmi.estimators.neural import InfoNCEEstimator

    kwargs = dict(verbose=False)
    if steps is not None:
        kwargs["max_n_steps"] = steps
    est = InfoNCEEstimator(**kwargs)
    t = time.perf_counter()
    with quiet():
        r = est.estimate_with_info(x, y)
    secs = time.perf_counter() - t
    return dict(
        estimate=float(r.mi_estimate),
        std_err=None,
        seconds=secs,
        threads=f"XLA's pool ({os.cpu_count()} cores)",
        settings=f"InfoNCE, concat (16, 8), {r.additional_information.get('n_training_steps', '?')} "
        f"of ≤ {est._params.max_n_steps} steps, K = 256",
    )


def run_mist(x, y, iterations, seed, early_stopping=True, test_fraction=0.2):
    import torch
    from torch_mist import estimate_mi

    torch.manual_seed(seed)
    np.random.seed(seed)
    n_test = int(round(len(x) * test_fraction))
    xt = torch.as_tensor(x, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)
    train = (xt[: len(x) - n_test], yt[: len(x) - n_test])
    test = (xt[len(x) - n_test :], yt[len(x) - n_test :])
    kwargs = dict(verbose=False, test_data=test)
    if not early_stopping:
        kwargs["early_stopping"] = False
    if iterations is not None:
        kwargs["max_iterations"] = iterations
    t = time.perf_counter()
    with quiet(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = estimate_mi(train, **kwargs)
    secs = time.perf_counter() - t
    mi, log = out if isinstance(out, tuple) else (out, None)
    its = None
    if log is not None and "iteration" in getattr(log, "columns", []):
        its = int(log["iteration"].max())
    return dict(
        estimate=float(mi),
        std_err=None,
        seconds=secs,
        threads=f"torch {torch.get_num_threads()}",
        settings=f"smile, joint [128], "
        + ("" if early_stopping else "early_stopping=False, ")
        + (f"{its} iterations" if its is not None else f"≤ {iterations or 5000} iterations")
        + ", K = 128",
    )


def auto_device():
    """What device="auto" picks here (the device text of a tiny run)."""
    import infobound

    r = np.random.default_rng(0)
    x = r.standard_normal((1000, 1))
    rep = infobound.estimate(x, x + r.standard_normal((1000, 1)), steps=2, device="auto")
    return rep.device


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="rows of every task (default 10 000)")
    p.add_argument("--seed", type=int, default=0, help="the samples' seed and every estimator's")
    p.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="bmi task ids, comma-separated")
    p.add_argument("--devices", default="cpu", help="infobound devices (default cpu; auto is added when it picks no CPU)")
    p.add_argument("--bmi-steps", type=int, default=None, help="bmi's max_n_steps (default: its 10 000)")
    p.add_argument("--mist-iterations", type=int, default=None, help="torch-mist's max_iterations (default: its 5000)")
    p.add_argument("--mist-long-iterations", type=int, default=2000,
                   help="iterations of the torch-mist row without early stopping (default 2000, infobound's steps)")
    p.add_argument("--skip", default="", help="comma-separated: bmi, mist, mist-no-early-stop")
    p.add_argument("--json", default=None, help="also write one JSON object a row to this file")
    p.add_argument("--ray", action="store_true",
                   help="instead of the peer table: estimate_many on a local Ray cluster (see ray_main)")
    p.add_argument("--ray-cpus", type=int, default=2, help="ray.init(num_cpus=...) (default 2)")
    p.add_argument("--ray-steps", type=int, default=None, help="steps of every estimate (default 2000)")
    a = p.parse_args()
    if a.ray:
        return ray_main(a)

    import bmi.benchmark
    import infobound

    skip = {s for s in a.skip.split(",") if s}
    devices = [d for d in a.devices.split(",") if d]
    auto = auto_device()
    if "auto" not in devices and not auto.startswith("CPU"):
        devices.append("auto")
    versions = {"infobound": getattr(infobound, "__version__", "?"), "numpy": np.__version__}
    estimators = [(f"infobound `{d}`", lambda x, y, d=d: run_infobound(x, y, d, a.seed)) for d in devices]
    if "bmi" not in skip:
        import jax

        versions["benchmark-mi"] = _version("benchmark-mi")
        versions["jax"] = jax.__version__
        estimators.append(("bmi InfoNCE (JAX)", lambda x, y: run_bmi(x, y, a.bmi_steps, a.seed)))
    if "mist" not in skip:
        import torch

        versions["torch-mist"] = _version("torch-mist")
        versions["torch"] = torch.__version__
        estimators.append(("torch-mist `estimate_mi`", lambda x, y: run_mist(x, y, a.mist_iterations, a.seed)))
        if "mist-no-early-stop" not in skip:
            estimators.append(("torch-mist, no early stop",
                               lambda x, y: run_mist(x, y, a.mist_long_iterations, a.seed, early_stopping=False)))

    print(
        f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.machine()}, "
        f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; n = {a.n}, seed {a.seed}; "
        f"device=\"auto\" picks: {auto}",
        file=sys.stderr,
    )
    print("# " + ", ".join(f"{k} {v}" for k, v in versions.items()), file=sys.stderr)
    rows = []
    out = open(a.json, "w") if a.json else None
    for tid in [t for t in a.tasks.split(",") if t]:
        task = bmi.benchmark.BENCHMARK_TASKS[tid]
        x, y = task.sample(a.n, seed=a.seed)
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        truth = float(task.mutual_information)
        for name, fn in estimators:
            load = os.getloadavg()[0]
            try:
                r = fn(x, y)
                err = None
            except Exception as e:  # noqa: BLE001 - a failure is a row of the table
                r, err = dict(estimate=math.nan, std_err=None, seconds=math.nan, threads="", settings=""), repr(e)
            row = dict(task=tid, dims=f"{task.dim_x} × {task.dim_y}", truth=truth, estimator=name,
                       load=load, error=err, n=a.n, seed=a.seed, **r)
            rows.append(row)
            print(f"{tid:<42} {name:<26} {r['estimate']:8.4f} (true {truth:.4f}) {r['seconds']:7.1f} s"
                  + (f"  {err}" if err else ""), file=sys.stderr, flush=True)
            if out:
                out.write(json.dumps(row) + "\n")
                out.flush()
    if out:
        out.close()

    print("| task | dims | true MI | estimator | estimate | abs. error | seconds | threads | settings |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        est = "failed" if r["error"] else f"{r['estimate']:.3f}" + (f" ± {r['std_err']:.3f}" if r["std_err"] else "")
        err = "" if r["error"] else f"{abs(r['estimate'] - r['truth']):.3f}"
        secs = "" if r["error"] else f"{r['seconds']:.1f}"
        print(f"| {r['task']} | {r['dims']} | {r['truth']:.3f} | {r['estimator']} | {est} | {err} | {secs} | "
              f"{r['threads']} | {r['settings']} |")


# --- estimate_many on a local Ray cluster --------------------------------------------------


def ray_pairs(seed):
    """12 pairs of four shapes (three of each), interleaved, with known MI: Gaussian pairs,
    each of the d coordinates of y correlated with one of x with rho = sqrt(1 - exp(-2I/d)),
    so that I(X; Y) = I nats, for I = 0.5, 1 and 2."""
    r = np.random.default_rng(seed)
    shapes = [(5000, 1), (5000, 5), (3000, 2), (5000, 10)]
    pairs, truths, names = [], [], []
    for mi in (0.5, 1.0, 2.0):
        for n, d in shapes:
            rho = math.sqrt(1 - math.exp(-2 * mi / d))
            x = r.standard_normal((n, d))
            y = rho * x + math.sqrt(1 - rho * rho) * r.standard_normal((n, d))
            pairs.append((x, y))
            truths.append(mi)
            names.append(f"{n} rows, {d} × {d}")
    return pairs, truths, names


def same_bits(a, b):
    """Two reports carry the same bits: estimate, errors, curves, gradient norms."""
    return (
        a.mi == b.mi
        and a.std_err == b.std_err
        and a.steps == b.steps
        and a.chosen_step == b.chosen_step
        and np.array_equal(a.train_curve, b.train_curve)
        and np.array_equal(a.test_curve, b.test_curve)
        and np.array_equal(a.grad_norms, b.grad_norms, equal_nan=True)
        and a.ensemble == b.ensemble
    )


def ray_main(a):
    """12 sequential infobound.estimate calls, one local infobound.estimate_many, and
    infobound.ray.estimate_many on ray.init(num_cpus=a.ray_cpus) (twice: with cold workers,
    then warm): wall times, and whether every report is bit for bit the sequential one."""
    import infobound

    pairs, truths, names = ray_pairs(a.seed)
    settings = dict(seed=a.seed, device="cpu")
    if a.ray_steps:
        settings["steps"] = a.ray_steps
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.1f}; {len(pairs)} pairs; settings {settings}", file=sys.stderr)
    plan = infobound.plan_many(pairs, **{k: v for k, v in settings.items() if k == "steps"})
    rows = []

    def timed(label, fn):
        load = os.getloadavg()[0]
        t = time.perf_counter()
        out = fn()
        secs = time.perf_counter() - t
        print(f"{label:<58} {secs:7.1f} s  (load {load:.1f})", file=sys.stderr, flush=True)
        rows.append((label, secs, load))
        return out

    seq = timed("12 × `infobound.estimate` (sequential)",
                lambda: [infobound.estimate(x, y, **settings) for x, y in pairs])
    local = timed("`infobound.estimate_many` (local, batched)",
                  lambda: infobound.estimate_many(pairs, **settings))

    import ray
    import infobound.ray as iray

    timed(f"`ray.init(num_cpus={a.ray_cpus})`",
          lambda: ray.init(num_cpus=a.ray_cpus, include_dashboard=False, log_to_driver=False,
                           configure_logging=False))
    try:
        kw = dict(num_cpus=1, num_gpus=0, **settings)
        cold = timed("`infobound.ray.estimate_many(num_cpus=1)`, first call",
                     lambda: iray.estimate_many(pairs, **kw))
        warm = timed("`infobound.ray.estimate_many(num_cpus=1)`, again",
                     lambda: iray.estimate_many(pairs, **kw))
        one = timed("`infobound.ray.estimate_many(num_cpus=2)`: one task at a time",
                    lambda: iray.estimate_many(pairs, **{**kw, "num_cpus": 2}))
    finally:
        ray.shutdown()
    again = timed("`infobound.estimate_many` (local, batched), again after Ray",
                  lambda: infobound.estimate_many(pairs, **settings))

    def ident(rs):
        return sum(same_bits(s, r) for s, r in zip(seq, rs))

    def n_tasks(rs):
        return len({r.batched.split("; ")[-1].split(" on ")[0] for r in rs})

    print(f"\nRuns of the local batched plan: {len(plan)}: "
          + "; ".join(f"{p['pairs']} ({p['rows']} rows, {p['dims']})" for p in plan))
    print(f"An example of Report.batched from Ray: {cold[0].batched}\n")
    print("| run | Ray tasks | wall (s) | load (1 min) | reports bit-identical to the sequential ones |")
    print("|---|---|---|---|---|")
    idents = [len(pairs), ident(local), None, ident(cold), ident(warm), ident(one), ident(again)]
    tasks = ["", "", "", n_tasks(cold), n_tasks(warm), n_tasks(one), ""]
    for (label, secs, load), n_id, nt in zip(rows, idents, tasks):
        same = "" if n_id is None else ("(reference)" if label.startswith("12 ×") else f"{n_id} of {len(pairs)}")
        print(f"| {label} | {nt} | {secs:.1f} | {load:.1f} | {same} |")
    print("\n| pair | true MI | estimate (every run) |")
    print("|---|---|---|")
    for name, truth, r in zip(names, truths, seq):
        print(f"| {name} | {truth:.3f} | {r.mi:.3f} ± {r.std_err:.3f} |")


def _version(dist):
    from importlib.metadata import version

    try:
        return version(dist)
    except Exception:  # noqa: BLE001
        return "?"


if __name__ == "__main__":
    main()
