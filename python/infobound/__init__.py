"""infobound: mutual information estimated with neural variational bounds, trained on the GPU
in hand-written WGSL kernels (wgpu: Vulkan, Metal, DX12) or on every CPU core in f32, with an
f64 CPU reference backend.

Every estimate is in nats (``Report.bits`` converts). Training releases the GIL; Ctrl-C stops
a run within about a second and raises ``KeyboardInterrupt``. :func:`estimate_many` and
:func:`mi_matrix` train many estimates side by side in batched runs, each with the bits it
gets alone; ``infobound.ray`` spreads them over a Ray cluster.

>>> import numpy as np, infobound
>>> x = np.random.default_rng(0).normal(size=(4000, 1))
>>> y = 0.8 * x + 0.6 * np.random.default_rng(1).normal(size=(4000, 1))
>>> print(infobound.estimate(x, y))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from . import _infobound as _native
from ._infobound import EstimationError
from ._inputs import as_rows
from ._many import (
    MiMatrix,
    estimate_many,
    mi_matrix,
    plan_many,
    shards,
)
from ._many import widths as _widths
from ._progress import BatchProgress
from ._progress import callback as _callback
from ._report import Report

__version__: str = _native.__version__
__all__ = [
    "BatchProgress",
    "EstimationError",
    "MiMatrix",
    "Report",
    "bound_names",
    "contrastive_loss",
    "devices",
    "estimate",
    "estimate_many",
    "mi_matrix",
    "mine_demo",
    "plan_many",
    "sandwich",
    "shards",
    "staircase",
]

Widths = Union[int, Sequence[int], None]


def estimate(
    x: Any,
    y: Any,
    *,
    bound: str = "smile",
    critic: str = "separable",
    hidden: Widths = None,
    embed: Optional[int] = None,
    steps: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
    transform: Optional[str] = None,
    test_fraction: Optional[float] = None,
    replicas: int = 1,
    geometry: Union[None, str, "os.PathLike[str]"] = None,
    progress: Union[None, bool, Callable[[int, float, Optional[float]], None]] = None,
) -> Report:
    """Estimates the mutual information I(X; Y), in nats, from paired rows of ``x`` and ``y``.

    ``x`` and ``y``: 1-D (one column) or 2-D (rows × columns) float32/float64 array-likes in C
    or Fortran order, or CPU torch tensors; row i of x pairs with row i of y. Each is copied
    once (to f32) before the GIL is released.

    ``bound``: one of :func:`bound_names` (default SMILE, τ = 5). ``critic``: "separable"
    (default), "concat", "shuffled", "decoder" (bound "ba"), "decoder-critic" (bound "ms").
    ``hidden``: the hidden widths of each network (default 128, 128); ``embed``: the separable
    critic's embedding width (default 32). ``steps`` (default 2000), ``batch`` (K, default 128),
    ``lr`` (Adam, default 1e-3), ``seed`` (same seed, same bits), ``device`` ("auto", "gpu",
    "gpu:N" from :func:`devices`, "cpu" (f32 on every core), "cpu-reference" (the f64
    reference)), ``transform`` ("rank-gauss" (default),
    "standardize", "none"), ``test_fraction`` (held out, default 0.2). None keeps the
    library's default.

    ``replicas`` r > 1: a seed ensemble. The estimate is trained under seeds ``seed``,
    ``seed + 1``, …, ``seed + r - 1`` (wrapping at 2⁶⁴), side by side in one batched run;
    ``estimate(..., seed=seed + i)`` alone gives seed i's bits on the same device. ``mi`` is
    then the mean of the seeds that finished and the curves are the first one's;
    ``Report.ensemble`` has each seed's estimate, standard error (nats) and error, their
    mean and their standard deviation ``sd`` (the optimisation's spread, which the sampling
    error does not show). ``std_err`` is the mean's: the seeds' sampling error and ``sd`` / √r
    in quadrature. A seed that fails is left out with a warning; the call fails only if every
    seed does. r must be at least 1 (``ValueError`` otherwise).

    ``geometry`` (GPU only): how the kernels cut their work. "auto" (the default) tunes each
    kernel family on this adapter at first use and caches the choice; "rule" takes the
    adapter's rule untuned; a path pins the geometry file ``infobound tune --save`` writes, so
    the same seed gives the same bits on another machine with the same adapter.
    ``Report.geometry`` names what each family used and why.

    ``progress``: True draws a bar (tqdm if installed, else a line on stderr); a callable gets
    ``(step, steps_per_second, latest_mi)``, ``latest_mi`` the latest held-out estimate in
    nats or None before the first evaluation.

    Raises ``ValueError`` for bad input (NaN, mismatched rows, an unknown name, a bad setting)
    with the library's one-line message, ``TypeError`` for integer, complex or CUDA inputs,
    :class:`EstimationError` for a failure while running, ``KeyboardInterrupt`` on Ctrl-C.
    """
    xa, ya = as_rows(x, "x"), as_rows(y, "y")
    relay, close = _callback(progress)
    try:
        fields = _native.estimate(
            xa,
            ya,
            bound=bound,
            critic=critic,
            hidden=_widths(hidden),
            embed=embed,
            steps=steps,
            batch=batch,
            lr=lr,
            seed=seed,
            device=device,
            transform=transform,
            test_fraction=test_fraction,
            replicas=replicas,
            geometry=None if geometry is None else os.fspath(geometry),
            progress=relay,
        )
    finally:
        close()
    return Report._from_native(fields)


def devices() -> List[Dict[str, Any]]:
    """The adapters wgpu sees, best first: dicts with ``index`` (N of ``device="gpu:N"``),
    ``name``, ``backend``, ``device_type``, ``driver``, ``is_software`` and ``chosen`` (the
    one ``device="gpu"`` takes). Empty without a GPU driver."""
    return list(_native.devices())


def bound_names() -> List[str]:
    """The names ``estimate(bound=...)`` takes."""
    return list(_native.bound_names())


def sandwich(
    y: Any,
    mu: Any,
    sigma: Any,
    *,
    block: Optional[int] = None,
    device: str = "auto",
    gradients: bool = False,
) -> Dict[str, Any]:
    """The sandwich bounds, in nats, on I(X; Y) of a Gaussian encoder: samples ``y`` drawn
    from N(``mu``, diag ``sigma``²), each n × D (1-D: D = 1).

    Returns a dict: ``lower`` ≤ I ≤ ``upper``, ``lautum`` (the plug-in Lautum information),
    ``k`` (samples a block; ``block=None``: all n), ``n``, ``blocks``, ``device``,
    ``warnings``, and with ``gradients=True`` ``lower_grad``/``upper_grad`` (dicts of n × D
    float64 arrays ``mu``, ``sigma``, ``y``), else None.
    """
    return dict(
        _native.sandwich(
            as_rows(y, "y"),
            as_rows(mu, "mu"),
            as_rows(sigma, "sigma"),
            block=block,
            device=device,
            gradients=gradients,
        )
    )


def contrastive_loss(
    g: Any,
    h: Any,
    temperature: float = 1.0,
    symmetric: bool = False,
    *,
    device: str = "auto",
) -> Tuple[float, np.ndarray, np.ndarray]:
    """The contrastive loss, in nats, of embeddings ``g`` and ``h`` (K × e; row i of each is a
    positive pair): InfoNCE at ``temperature`` (scores ⟨g_i, h_j⟩ / T), or with
    ``symmetric=True`` CLIP's mean of the row-wise and column-wise losses.

    Returns ``(loss, dloss_dg, dloss_dh)``, the gradients K × e float32. On a GPU
    (``device`` picks it as :func:`estimate` does) the fused kernels compute it; on the CPU,
    the f64 reference.
    """
    return _native.contrastive_loss(
        as_rows(g, "g"), as_rows(h, "h"), float(temperature), bool(symmetric), device=device
    )


def staircase(
    *,
    dim: Optional[int] = None,
    mis: Optional[Sequence[float]] = None,
    steps_per_stage: Optional[int] = None,
    bound: str = "smile",
    critic: str = "separable",
    hidden: Widths = None,
    embed: Optional[int] = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
) -> Dict[str, Any]:
    """The SMILE/VBMI staircase benchmark, in nats: a critic trained on fresh correlated
    Gaussian batches (``dim``, default 20) while the true MI steps through ``mis`` (default
    2, 4, 6, 8, 10), ``steps_per_stage`` steps each (default 4000).

    Returns a dict: ``stages`` (the table: one dict a stage with ``true_mi``, ``mean``,
    ``bias``, ``variance``, ``mse``), ``estimates`` (every step's, float32), ``device``,
    ``seconds``, ``warnings``. Ctrl-C is seen when the run ends.
    """
    return dict(
        _native.staircase(
            dim=dim,
            mis=None if mis is None else [float(m) for m in mis],
            steps_per_stage=steps_per_stage,
            bound=bound,
            critic=critic,
            hidden=_widths(hidden),
            embed=embed,
            batch=batch,
            lr=lr,
            seed=seed,
            device=device,
        )
    )


def mine_demo(
    *,
    dim: Optional[int] = None,
    rhos: Optional[Sequence[float]] = None,
    steps: Optional[int] = None,
    hidden: Widths = None,
    batch: Optional[int] = None,
    lr: Optional[float] = None,
    alpha: Optional[float] = None,
    seed: int = 0,
    device: str = "auto",
) -> Dict[str, Any]:
    """MINE's biased gradient against its moving-average (EMA) correction, in nats: one pair
    of runs for each correlation ρ in ``rhos`` (default 0.85, 0.9, 0.95, 0.99) on a
    ``dim``-dimensional Gaussian (default 5).

    Returns a dict: ``rows`` (the table: one dict a ρ with ``rho``, ``true_mi`` and, for each
    run, ``biased_``/``ema_`` ``final``, ``max_grad_norm``, ``final_grad_norm``,
    ``diverged_at``, ``runaway_step``), ``device``, ``seconds``, ``warnings``.
    """
    return dict(
        _native.mine_demo(
            dim=dim,
            rhos=None if rhos is None else [float(r) for r in rhos],
            steps=steps,
            hidden=_widths(hidden),
            batch=batch,
            lr=lr,
            alpha=alpha,
            seed=seed,
            device=device,
        )
    )
