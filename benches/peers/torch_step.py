#!/usr/bin/env python3
"""PyTorch peer of `infobound bench`: exactly the same training step, timed the same way.

Configurations (as in src/bin/infobound/bench.rs):
  standard  d = 20 correlated Gaussian (true MI 2 nats), separable critic: towers
            20 -> 256 -> 256 -> 32 (ReLU), S = G H^T over all K^2 pairs; SMILE tau = 5:
            trained on the JS objective, read out as mean S_ii - log mean_off exp clip(S, -5, 5);
            Adam lr 5e-4, PyTorch nn.Linear initialisation.
  bmi       d = 5 Gaussian (1 nat), concat critic [x_i; y_j] -> 16 -> 8 -> 1 on all K^2 pairs
            (first layer split, as infobound does), InfoNCE, K = 256, Adam lr 0.1.
  bmi-dense the bmi configuration on bmi's multinormal-dense-5-5-0.5 (every two of the ten
            coordinates correlated at 0.5, 0.593 nats): 5 000 rows sampled once, a minibatch of
            K distinct rows every step (infobound's bmi-dense trains on 5 000 rows of it too).
Each step draws a fresh batch on the device (infobound draws on the device too), then
forward, bound, backward and Adam. Timing: warm-up steps, then the median of --repeats runs of
as many steps as fill --seconds, synchronising the device around each run. The estimate is the
mean bound value over the last (at most 100) steps, after training on to --train-steps. Modes: eager; on CUDA also torch.compile and CUDA graphs
(torch.compile mode="reduce-overhead"); --modes picks.

Prints one JSON object per line (peer, mode, device, config, batch, steps_per_s, ...).
"""

import argparse
import json
import math
import statistics
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def rho_for_mi(dim, mi):
    return math.sqrt(1.0 - math.exp(-2.0 * mi / dim))


def mlp(widths):
    layers = []
    for i in range(len(widths) - 1):
        layers.append(nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class Separable(nn.Module):
    def __init__(self, d, hidden, embed):
        super().__init__()
        self.g = mlp([d, *hidden, embed])
        self.h = mlp([d, *hidden, embed])

    def forward(self, x, y):
        return self.g(x) @ self.h(y).T


class Concat(nn.Module):
    """f([x_i; y_j]) for all pairs, the first layer split: W[x; y] + b = (W_x x + b) + W_y y."""

    def __init__(self, d, hidden):
        super().__init__()
        self.first = nn.Linear(2 * d, hidden[0])
        self.rest = mlp([hidden[0], *hidden[1:], 1])
        self.d = d

    def forward(self, x, y):
        w = self.first.weight
        u = x @ w[:, : self.d].T + self.first.bias  # K x h
        v = y @ w[:, self.d :].T  # K x h
        pairs = torch.relu(u[:, None, :] + v[None, :, :])  # K x K x h
        return self.rest(pairs).squeeze(-1)


def off_diagonal(s):
    k = s.shape[0]
    return s.masked_select(~torch.eye(k, dtype=torch.bool, device=s.device))


def smile(s, tau=5.0):
    """(training loss: minus the JS objective, read-out value)."""
    diag = torch.diagonal(s)
    off = off_diagonal(s)
    js = -F.softplus(-diag).mean() - F.softplus(off).mean()
    clipped = off.clamp(-tau, tau)
    value = diag.mean() - (torch.logsumexp(clipped, 0) - math.log(off.numel()))
    return -js, value.detach()


def infonce(s):
    k = s.shape[0]
    value = math.log(k) + (torch.diagonal(s) - torch.logsumexp(s, 1)).mean()
    return -value, value.detach()


CONFIGS = {
    "standard": dict(dim=20, mi=2.0, lr=5e-4, bound=smile, critic=lambda d: Separable(d, [256, 256], 32)),
    "bmi": dict(dim=5, mi=1.0, lr=0.1, bound=infonce, critic=lambda d: Concat(d, [16, 8])),
    # 1/2 ln((1 + d)^2 / (1 + 2d)) at d = 5: bmi's dense task's closed form.
    "bmi-dense": dict(dim=5, mi=0.5 * math.log(36 / 11), lr=0.1, bound=infonce, critic=lambda d: Concat(d, [16, 8]),
                      dense_rows=5000),
}


def dense_rows(d, n, device):
    """n rows of bmi's multinormal-dense-d-d-0.5: [x; y] ~ N(0, 0.5 I + 0.5 1 1^T)."""
    cov = torch.full((2 * d, 2 * d), 0.5) + 0.5 * torch.eye(2 * d)
    z = torch.randn(n, 2 * d) @ torch.linalg.cholesky(cov).T
    return z[:, :d].contiguous().to(device), z[:, d:].contiguous().to(device)


def make_step(cfg, k, device, mode, seed):
    torch.manual_seed(seed)
    d = cfg["dim"]
    rho = rho_for_mi(d, cfg["mi"])
    critic = cfg["critic"](d).to(device)
    opt = torch.optim.Adam(critic.parameters(), lr=cfg["lr"], capturable=(mode == "cudagraphs"))
    bound = cfg["bound"]

    rows = dense_rows(d, cfg["dense_rows"], device) if "dense_rows" in cfg else None

    def step():
        if rows is None:
            x = torch.randn(k, d, device=device)
            y = rho * x + math.sqrt(1 - rho * rho) * torch.randn(k, d, device=device)
        else:
            pick = torch.randperm(rows[0].shape[0], device=device)[:k]
            x, y = rows[0][pick], rows[1][pick]
        loss, value = bound(critic(x, y))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return value

    if mode == "compile":
        step = torch.compile(step)
    elif mode == "cudagraphs":
        step = torch.compile(step, mode="reduce-overhead")
    return step


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def bench(name, k, device, mode, seconds, repeats, warmup, seed, train_steps):
    cfg = CONFIGS[name]
    step = make_step(cfg, k, device, mode, seed)
    t = time.perf_counter()
    for _ in range(warmup):
        step()
    sync(device)
    warm = time.perf_counter() - t
    t = time.perf_counter()
    for _ in range(2):
        step()
    sync(device)
    per = (time.perf_counter() - t) / 2
    n = max(1, min(2000, round(seconds / per)))
    rates, values, total = [], [], warmup + 2
    for _ in range(repeats):
        t = time.perf_counter()
        values = [step() for _ in range(n)]
        sync(device)
        rates.append(n / (time.perf_counter() - t))
        total += n
    while total < train_steps:  # train on for the accuracy column, like infobound's --train-steps
        m = min(1000, train_steps - total)
        values = [step() for _ in range(m)]
        total += m
    estimate = float(torch.stack(values[-100:]).mean())
    return dict(
        peer="torch", torch=torch.__version__, mode=mode, device=str(device),
        threads=torch.get_num_threads() if device.type == "cpu" else None,
        config=name, batch=k, steps_per_s=statistics.median(rates),
        steps_per_s_min=min(rates), steps_per_s_max=max(rates),
        samples_per_s=statistics.median(rates) * k, steps_per_run=n, steps_total=total,
        warmup_s=warm, estimate=estimate, true_mi=cfg["mi"],
    )


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--configs", default="standard,bmi")
    p.add_argument("--ks", default="64,256,1024,4096", help="batches of the standard configuration")
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--modes", default=None, help="eager,compile,cudagraphs (default: eager; all three on CUDA)")
    p.add_argument("--seconds", type=float, default=2.0)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--train-steps", type=int, default=0, help="train on to this many steps before reading the estimate")
    p.add_argument("--threads", type=int, default=None, help="CPU threads (default: torch's choice)")
    a = p.parse_args()
    if a.threads:
        torch.set_num_threads(a.threads)
    device = torch.device(a.device)
    modes = a.modes.split(",") if a.modes else (["eager", "compile", "cudagraphs"] if device.type == "cuda" else ["eager"])
    for name in a.configs.split(","):
        ks = [int(k) for k in a.ks.split(",")] if name == "standard" else [256]
        for k in ks:
            for mode in modes:
                try:
                    row = bench(name, k, device, mode, a.seconds, a.repeats, a.warmup, a.seed, a.train_steps)
                except Exception as e:  # a mode this machine lacks (no compiler, no CUDA graphs)
                    row = dict(peer="torch", mode=mode, device=str(device), config=name, batch=k, error=str(e).splitlines()[0] if str(e) else type(e).__name__)
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
