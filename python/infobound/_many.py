"""Many estimates at once: :func:`estimate_many` over pairs of arrays, :func:`mi_matrix` over
the column groups of one array, :func:`plan_many` (how pairs are grouped into batched runs)
and :func:`shards` (how they are split over workers: Ray tasks or a Slurm array)."""

from __future__ import annotations

import math
import operator
import warnings
from typing import (
    Any,
    Callable,
    Dict,
    List,
    Literal,
    Optional,
    Sequence,
    Tuple,
    Union,
    overload,
)

import numpy as np

from . import _infobound as _native
from ._inputs import as_pairs, as_rows
from ._matrix import Groups, MiMatrix, assemble, resolve_groups
from ._progress import BatchProgress, batch_callback
from ._report import Report

Widths = Union[int, Sequence[int], None]
#: A pair's outcome in ``errors="return"`` mode: its Report, or the exception ``estimate``
#: would have raised for it.
Outcome = Union[Report, Exception]
ErrorMode = Literal["raise", "return"]
ProgressArg = Union[None, bool, Callable[[BatchProgress], None]]


def widths(hidden: Widths) -> Optional[List[int]]:
    """Hidden widths as a list (one int is one layer)."""
    if hidden is None:
        return None
    if isinstance(hidden, int):
        return [hidden]
    return [int(w) for w in hidden]


def settings(
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
) -> Dict[str, Any]:
    """The settings of :func:`infobound.estimate` as the dict the native batched functions
    read (None keeps the library's default)."""
    return dict(
        bound=bound,
        critic=critic,
        hidden=widths(hidden),
        embed=embed,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=operator.index(seed),
        device=device,
        transform=transform,
        test_fraction=test_fraction,
        replicas=operator.index(replicas),
    )


def check_errors(errors: str) -> None:
    """``errors`` is "raise" or "return"."""
    if errors not in ("raise", "return"):
        raise ValueError(f'invalid input: errors must be "raise" or "return", not {errors!r}')


def finish(results: List[Outcome], errors: str) -> List[Outcome]:
    """``results`` as ``errors`` wants them: as they are ("return"), or with the first
    failure raised ("raise"), carrying ``pair`` (its index) and ``results`` (every pair's
    outcome, the failures in place)."""
    failed = [i for i, r in enumerate(results) if isinstance(r, BaseException)]
    if errors == "return" or not failed:
        return results
    first = results[failed[0]]
    assert isinstance(first, BaseException)
    first.pair = failed[0]  # type: ignore[attr-defined]
    first.results = results  # type: ignore[attr-defined]
    if hasattr(first, "add_note"):  # Python 3.11+
        first.add_note(
            f"pair {failed[0]} of {len(results)} failed ({len(failed)} failed in all); "
            "the exception's .results holds every pair's outcome, and errors=\"return\" "
            "returns them"
        )
    raise first


def _reports(out: Sequence[Any]) -> List[Outcome]:
    """The native module's items (a report's dict or an exception) as Reports."""
    return [Report._from_native(o) if isinstance(o, dict) else o for o in out]


@overload
def estimate_many(
    pairs: Sequence[Tuple[Any, Any]],
    *,
    bound: str = ...,
    critic: str = ...,
    hidden: Widths = ...,
    embed: Optional[int] = ...,
    steps: Optional[int] = ...,
    batch: Optional[int] = ...,
    lr: Optional[float] = ...,
    seed: int = ...,
    device: str = ...,
    transform: Optional[str] = ...,
    test_fraction: Optional[float] = ...,
    replicas: int = ...,
    progress: ProgressArg = ...,
    errors: Literal["raise"] = ...,
    ray: bool = ...,
) -> List[Report]: ...


@overload
def estimate_many(
    pairs: Sequence[Tuple[Any, Any]],
    *,
    bound: str = ...,
    critic: str = ...,
    hidden: Widths = ...,
    embed: Optional[int] = ...,
    steps: Optional[int] = ...,
    batch: Optional[int] = ...,
    lr: Optional[float] = ...,
    seed: int = ...,
    device: str = ...,
    transform: Optional[str] = ...,
    test_fraction: Optional[float] = ...,
    replicas: int = ...,
    progress: ProgressArg = ...,
    errors: Literal["return"],
    ray: bool = ...,
) -> List[Outcome]: ...


def estimate_many(
    pairs: Sequence[Tuple[Any, Any]],
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
    progress: ProgressArg = None,
    errors: ErrorMode = "raise",
    ray: bool = False,
) -> Union[List[Report], List[Outcome]]:
    """Estimates I(X; Y), in nats, for every ``(x, y)`` pair of ``pairs``: one
    :class:`Report` a pair, in order, each bit for bit the one :func:`estimate` gives that
    pair alone with the same settings on the same device (``Report.batched`` says where it
    ran).

    Pairs with the same rows and column widths train side by side as the replicas of one
    batched run (:func:`plan_many` shows the grouping): on a GPU, many small estimates take
    about the time of one. Each ``x``/``y`` is taken as :func:`estimate` takes it (1-D or 2-D
    float32/float64, any memory order, CPU torch tensors; the same errors for integers,
    complex numbers and CUDA tensors, naming the pair: ``pairs[3][0]``) and copied once, every
    copy made before the GIL is released; training releases the GIL, and Ctrl-C raises
    ``KeyboardInterrupt`` within about a second.

    The settings are :func:`estimate`'s, shared by every pair; a bad setting raises
    ``ValueError`` at once, before anything runs. ``replicas`` r > 1 makes each pair a seed
    ensemble (seeds ``seed`` … ``seed + r - 1``; see :func:`estimate`).

    ``errors``: what a pair that fails alone does (bad data such as NaN or mismatched rows:
    the ``ValueError`` :func:`estimate` raises; a divergence: :class:`EstimationError`).
    Every pair runs either way.

    - ``"raise"`` (the default): the list holds only Reports; if any pair failed, the first
      failure (by pair order) is raised once all have run, with ``.pair`` (its index) and
      ``.results`` (every pair's outcome, as ``"return"`` gives it) set on it.
    - ``"return"``: never raises for a pair; a failed pair's slot holds the exception object
      (not raised) with the library's message.

    ``progress``: True draws a bar (tqdm if installed, else a line on stderr) with the run,
    its steps, the replicas still running and the time left; a callable receives one
    :class:`BatchProgress` after every block of steps.

    ``ray=True`` spreads the pairs over a Ray cluster instead, with
    :func:`infobound.ray.estimate_many`'s defaults (``pip install "infobound[ray]"``; use that
    function for its options); ``progress`` then counts finished tasks.
    """
    check_errors(errors)
    if ray:
        from . import ray as _ray

        return _ray.estimate_many(
            pairs,
            bound=bound,
            critic=critic,
            hidden=hidden,
            embed=embed,
            steps=steps,
            batch=batch,
            lr=lr,
            seed=seed,
            device=device,
            transform=transform,
            test_fraction=test_fraction,
            replicas=replicas,
            progress=progress,
            errors=errors,
        )
    s = settings(
        bound=bound,
        critic=critic,
        hidden=hidden,
        embed=embed,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        device=device,
        transform=transform,
        test_fraction=test_fraction,
        replicas=replicas,
    )
    arrays = as_pairs(pairs)
    relay, close = batch_callback(progress)
    try:
        out = _native.estimate_many(arrays, s, relay)
    finally:
        close()
    return finish(_reports(out), errors)


def plan_shapes(
    shapes: Sequence[Tuple[Tuple[int, int], Tuple[int, int]]], s: Dict[str, Any]
) -> List[Dict[str, Any]]:
    """:func:`plan_many` of pairs of these shapes under the settings dict ``s``."""
    return [dict(run) for run in _native.plan_many(list(shapes), s)]


def plan_many(
    pairs: Sequence[Tuple[Any, Any]],
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
) -> List[Dict[str, Any]]:
    """How :func:`estimate_many` with these settings groups ``pairs`` into batched runs,
    without training (only the arrays' shapes are read; the settings are checked).

    Pairs with the same rows and column widths share a run, in request order, at most 256
    replicas a run (each pair ``replicas`` of them). Returns one dict a run: ``pairs`` (their
    indices), ``rows``, ``dims`` (columns of x, of y), ``replicas`` (pairs × seeds) and
    ``text`` (the run in words). A pair with no columns is in no run: it fails alone.
    """
    s = settings(
        bound=bound,
        critic=critic,
        hidden=hidden,
        embed=embed,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        device=device,
        transform=transform,
        test_fraction=test_fraction,
        replicas=replicas,
    )
    arrays = as_pairs(pairs)
    return plan_shapes([(x.shape, y.shape) for x, y in arrays], s)


def split_runs(
    runs: Sequence[Dict[str, Any]],
    n: int,
    *,
    pairs_per_task: Optional[int] = None,
    tasks: Optional[int] = None,
) -> List[List[int]]:
    """Shards of pair indices (``n`` pairs) from a plan's ``runs``: each run cut into nearly
    equal pieces of at most ``pairs_per_task`` pairs (from ``tasks``: about n / tasks; with
    neither, one shard a run); pairs in no run make one last shard."""
    if pairs_per_task is not None and tasks is not None:
        raise ValueError("invalid input: give pairs_per_task or tasks, not both")
    size: Optional[int] = None
    if pairs_per_task is not None:
        size = operator.index(pairs_per_task)
        if size < 1:
            raise ValueError(f"invalid input: pairs_per_task must be positive, not {size}")
    elif tasks is not None:
        tasks = operator.index(tasks)
        if tasks < 1:
            raise ValueError(f"invalid input: tasks must be positive, not {tasks}")
        size = max(1, math.ceil(n / tasks))
    out: List[List[int]] = []
    for run in runs:
        members = list(run["pairs"])
        pieces = 1 if size is None else math.ceil(len(members) / size)
        # Nearly equal pieces, in order: the first len % pieces get one pair more.
        base, extra = divmod(len(members), pieces)
        start = 0
        for k in range(pieces):
            stop = start + base + (1 if k < extra else 0)
            out.append(members[start:stop])
            start = stop
    placed = {i for shard in out for i in shard}
    rest = [i for i in range(n) if i not in placed]
    if rest:
        out.append(rest)
    return out


def shards(
    pairs: Sequence[Tuple[Any, Any]],
    *,
    pairs_per_task: Optional[int] = None,
    tasks: Optional[int] = None,
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
) -> List[List[int]]:
    """How to split ``pairs`` over workers (Ray tasks, a Slurm array's tasks): lists of pair
    indices, each shard inside one batched run of :func:`plan_many` (so pairs of one shape
    stay together and each shard trains as one batched run on its worker).

    ``pairs_per_task`` caps a shard's pairs; ``tasks`` aims at that many shards (about
    len(pairs) / tasks pairs each; runs are never merged, so there may be more); with
    neither, one shard a batched run. Deterministic: every worker that computes it gets the
    same shards. Each shard's ``estimate_many`` gives every pair the bits of the whole
    request's (only ``Report.batched`` differs).
    """
    s = settings(
        bound=bound,
        critic=critic,
        hidden=hidden,
        embed=embed,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        device=device,
        transform=transform,
        test_fraction=test_fraction,
        replicas=replicas,
    )
    arrays = as_pairs(pairs)
    runs = plan_shapes([(x.shape, y.shape) for x, y in arrays], s)
    return split_runs(runs, len(arrays), pairs_per_task=pairs_per_task, tasks=tasks)


def warn_failed(m: MiMatrix) -> None:
    """A RuntimeWarning naming the pairs of ``m`` that failed (NaN in the matrix)."""
    failed = m.failed
    if failed:
        first = "; ".join(f"groups {i} and {j}: {e}" for (i, j), e in failed[:3])
        more = f"; and {len(failed) - 3} more" if len(failed) > 3 else ""
        warnings.warn(
            f"{len(failed)} of {len(m.pairs)} pairs failed (NaN in the matrix): {first}{more}",
            RuntimeWarning,
            stacklevel=3,
        )


def mi_matrix(
    x: Any,
    groups: Groups = None,
    *,
    each_column: bool = False,
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
    progress: ProgressArg = None,
    ray: bool = False,
) -> MiMatrix:
    """The mutual information, in nats, between every two column groups of ``x`` (n × d,
    taken as :func:`estimate` takes it): one estimate an unordered pair of groups, all pairs
    trained at once (pairs of equal widths share a batched run), mirrored, with a NaN
    diagonal. Returns a :class:`MiMatrix`.

    ``groups``: lists of column indices (``[[0, 1, 2, 3], [4, 5, 6, 7]]``), or the command
    line's ``"0-3,4-7,8"`` (0-based, inclusive ranges); None (or ``each_column=True``) makes
    one group a column. Fewer than two groups, an empty group or a column out of range raise
    ``ValueError``.

    The settings are :func:`estimate`'s (``replicas`` makes each pair a seed ensemble); each
    entry is bit for bit what :func:`estimate` gives that pair of column groups alone. A pair
    whose estimate fails is NaN in the matrix, says why in ``MiMatrix.pairs`` (and
    ``MiMatrix.failed``), and the call warns (``RuntimeWarning``); nothing is raised for it.

    ``progress`` as in :func:`estimate_many`. ``ray=True`` spreads the pairs over a Ray
    cluster (:func:`infobound.ray.mi_matrix` with its defaults; ``progress`` then counts
    finished tasks).
    """
    s = settings(
        bound=bound,
        critic=critic,
        hidden=hidden,
        embed=embed,
        steps=steps,
        batch=batch,
        lr=lr,
        seed=seed,
        device=device,
        transform=transform,
        test_fraction=test_fraction,
        replicas=replicas,
    )
    xa = as_rows(x, "x")
    resolved = resolve_groups(groups, each_column, xa.shape[1])
    if ray:
        from . import ray as _ray

        return _ray.mi_matrix(xa, resolved, progress=progress, **s)
    relay, close = batch_callback(progress)
    try:
        fields = _native.mi_matrix(xa, resolved, s, relay)
    finally:
        close()
    m = MiMatrix(
        groups=[list(g) for g in fields["groups"]],
        values=np.asarray(fields["values"]),
        std_errs=np.asarray(fields["std_errs"]),
        pairs=[
            ((int(i), int(j)), Report._from_native(r) if isinstance(r, dict) else r)
            for (i, j), r in fields["pairs"]
        ],
        runs=list(fields["runs"]),
    )
    warn_failed(m)
    return m


def estimate_column_pairs(
    x: np.ndarray,
    groups: List[List[int]],
    pairs: Sequence[Tuple[int, int]],
    s: Dict[str, Any],
) -> List[Outcome]:
    """Each ``(i, j)`` of ``pairs`` estimated between column groups i and j of ``x`` (a 2-D
    float ndarray), as :func:`estimate_many` estimates pairs of arrays (errors returned): a
    shard of an MI matrix, ``x`` copied once and each group gathered once."""
    return _reports(_native.estimate_column_pairs(x, groups, list(pairs), s))


__all__ = [
    "BatchProgress",
    "MiMatrix",
    "assemble",
    "estimate_column_pairs",
    "estimate_many",
    "mi_matrix",
    "plan_many",
    "shards",
]
