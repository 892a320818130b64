#!/usr/bin/env python3
"""The bmi benchmark's JAX estimator (benchmark-mi 0.1.3) on infobound's bmi configuration.

Task: 5 + 5-dimensional Gaussian, every coordinate pair correlated with rho so the true MI is
1 nat (infobound's bmi configuration); or, with --task, one of bmi's own tasks
(bmi.benchmark.BENCHMARK_TASKS, e.g. multinormal-dense-5-5-0.5, 0.593 nats: infobound's
bmi-dense configuration). n rows (half held out, bmi's default split). Estimator: bmi's
InfoNCEEstimator with its defaults (MLP critic (16, 8) ReLU on [x; y] over all K^2 pairs,
K = 256, Adam lr 0.1, seed 42 unless --train-seed, test every 250 steps), on the CPU through jaxlib 0.4.30.

Steps: bmi stops early once two held-out checks in a row bring no new best, so a call with
max_n_steps = 10 000 may train far fewer; the steps it trained are reported (n_steps). With
--no-early-stop its training loop runs every step (bmi 0.1.3 exposes no option for it: its
basic_training is called with early_stopping=False), so that --steps are the steps trained.

Timing: bmi's estimate() jit-compiles and evaluates on the held-out half as part of the call,
so it runs three times: a discarded run (compilation), then with --warm-steps and with
--steps; steps/s is the difference in steps trained over the difference in time (compile and
fixed costs cancel), and the plain steps / time of the long run is reported too. The estimate
is bmi's (the best of its held-out checks) from the long run. Prints one JSON object.
"""

import argparse
import json
import math
import time

import numpy as np


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--warm-steps", type=int, default=100)
    p.add_argument("--n", type=int, default=10_000)
    p.add_argument("--seed", type=int, default=0, help="the data sample's seed")
    p.add_argument("--train-seed", type=int, default=42,
                   help="InfoNCEEstimator's seed (critic init, train/test split, batches; bmi's default 42)")
    p.add_argument("--true-mi", type=float, default=0.5928, help="the true MI of --rows (default: bmi-dense's, 0.5928 nats)")
    p.add_argument("--task", default=None, help="a bmi task id (default: the 1-nat isotropic Gaussian)")
    p.add_argument("--no-early-stop", action="store_true", help="train every one of --steps")
    p.add_argument(
        "--rows",
        default=None,
        help="a directory with x.csv and y.csv (`cargo run --release --example bmi_dense_rows -- DIR`): "
        "train on the first half and hold out the second, as `infobound bench` does, instead of "
        "sampling --task and splitting at random",
    )
    a = p.parse_args()

    import jax
    from bmi.estimators.neural import InfoNCEEstimator

    if a.no_early_stop:
        import functools
        from bmi.estimators.neural import _estimators

        _estimators.basic_training = functools.partial(_estimators.basic_training, early_stopping=False)

    if a.rows is not None:
        from bmi.estimators.neural import _estimators

        def first_half_split(xs, ys, train_size, key):
            # bmi's split, replaced by the bench's: the first rows train, the rest are held out.
            if train_size is None:
                return xs, xs, ys, ys
            n = int(round(train_size * len(xs)))
            return xs[:n], xs[n:], ys[:n], ys[n:]

        _estimators.train_test_split = first_half_split

    if a.rows is not None:
        x = np.loadtxt(f"{a.rows}/x.csv", delimiter=",", dtype=np.float32)
        y = np.loadtxt(f"{a.rows}/y.csv", delimiter=",", dtype=np.float32)
        config, mi = "bmi-dense (our rows)", float(a.true_mi)
    elif a.task is None:
        config, d, mi = "bmi", 5, 1.0
        rho = math.sqrt(1.0 - math.exp(-2.0 * mi / d))
        rng = np.random.default_rng(a.seed)
        x = rng.standard_normal((a.n, d))
        y = rho * x + math.sqrt(1 - rho * rho) * rng.standard_normal((a.n, d))
    else:
        from bmi.benchmark import BENCHMARK_TASKS

        task = BENCHMARK_TASKS[a.task]
        config, mi = "bmi-dense" if a.task == "multinormal-dense-5-5-0.5" else a.task, float(task.mutual_information)
        x, y = task.sample(a.n, seed=a.seed)

    def run(steps):
        est = InfoNCEEstimator(max_n_steps=steps, verbose=False, seed=a.train_seed)
        t = time.perf_counter()
        r = est.estimate_with_info(x, y)
        return time.perf_counter() - t, r.mi_estimate, r.additional_information["n_training_steps"]

    # A first, discarded run pays jax's compilation: timed first, it made the warm run slower
    # than the long one's share and the difference ~25x too fast (1 819 steps/s on 2 cores).
    run(a.warm_steps)
    t_warm, _, n_warm = run(a.warm_steps)
    t_long, estimate, n_long = run(a.steps)
    steps = n_long - n_warm
    print(json.dumps(dict(
        peer="bmi", estimator="InfoNCEEstimator", jax=jax.__version__, device=str(jax.devices()[0]),
        config=config, task=a.task, seed=a.seed, train_seed=a.train_seed, batch=256, steps=a.steps, n_steps=n_long, early_stop=not a.no_early_stop,
        steps_per_s=steps / (t_long - t_warm) if t_long > t_warm and steps > 0 else None,
        steps_per_s_plain=n_long / t_long, seconds=t_long, estimate=float(estimate), true_mi=mi,
    )), flush=True)


if __name__ == "__main__":
    main()
