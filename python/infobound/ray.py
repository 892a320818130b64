"""Many estimates spread over a Ray cluster (needs Ray: ``pip install "infobound[ray]"``;
``import infobound`` never imports it).

The pairs are split into shards (:func:`infobound.shards`: pieces of the batched runs of
:func:`infobound.plan_many`, so pairs of one shape stay together), one Ray task a shard. Each
task calls :func:`infobound.estimate_many` on its worker, training its shard as one batched
run, and the reports come back in request order. Each report is bit for bit the one a local
:func:`infobound.estimate_many` (or :func:`infobound.estimate`) gives on an adapter of the same
kind; only ``Report.batched`` (which also names the task, node, GPU ids and device),
``device`` (the adapter's text) and the timings differ.

Connect first as usual (``ray.init(address="auto")`` on a cluster); without it the first call
starts a local Ray instance, as Ray does.

GPUs: a task that holds GPUs (``num_gpus=1``) trains on the wgpu adapter of its Ray GPU id
(:func:`adapter_for`): Ray's ``CUDA_VISIBLE_DEVICES`` means nothing to Vulkan, so without this
mapping every task on a node would open the same card. :func:`check_placement` shows the
mapping on a real node. A task that holds no GPU trains on the CPU (``device="auto"`` becomes
``"cpu"``), so that CPU-only tasks leave a node's cards to the tasks Ray gave them to.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

try:
    import ray
except ImportError as e:  # pragma: no cover - exercised only without ray
    raise ImportError(
        'infobound.ray needs Ray: pip install "infobound[ray]" (or pip install ray)'
    ) from e

from . import _many
from ._inputs import as_pairs, as_rows
from ._matrix import Groups, MiMatrix, assemble, resolve_groups
from ._placement import adapter_for
from ._report import Report

__all__ = [
    "adapter_for",
    "check_placement",
    "estimate_many",
    "mi_matrix",
    "task_device",
]

#: A task's progress: (tasks finished, tasks in all).
TaskProgress = Callable[[int, int], None]


def task_device(device: str = "auto", gpu_ids: Optional[Sequence[Union[int, str]]] = None) -> str:
    """The device a Ray task trains on when asked for ``device``: for "auto" and "gpu" with
    GPUs held (``gpu_ids``, default ``ray.get_gpu_ids()``), ``"gpu:N"`` of
    :func:`adapter_for`; "auto" with no GPU held, "cpu"; any other choice as given."""
    if device not in ("auto", "gpu"):
        return device
    ids = list(ray.get_gpu_ids() if gpu_ids is None else gpu_ids)
    if not ids:
        return "cpu" if device == "auto" else device
    index = adapter_for(ids)
    return device if index is None else f"gpu:{index}"


def _placement(device: str) -> Dict[str, Any]:
    """Where this task runs: node, GPU ids, the device it trains on."""
    ids = [i if isinstance(i, int) else str(i) for i in ray.get_gpu_ids()]
    return {
        "node": ray.util.get_node_ip_address(),
        "pid": os.getpid(),
        "gpu_ids": ids,
        "device": task_device(device, ids),
    }


@ray.remote
def _pairs_task(
    pairs: List[Tuple[Any, Any]], settings: Dict[str, Any]
) -> Tuple[List[Any], Dict[str, Any]]:
    """One shard of pairs of arrays, on its worker."""
    where = _placement(settings["device"])
    out = _many.estimate_many(pairs, errors="return", **{**settings, "device": where["device"]})
    return out, where


@ray.remote
def _columns_task(
    x: Any, groups: List[List[int]], pairs: List[Tuple[int, int]], settings: Dict[str, Any]
) -> Tuple[List[Any], Dict[str, Any]]:
    """One shard of an MI matrix (pairs of column groups of ``x``), on its worker."""
    where = _placement(settings["device"])
    out = _many.estimate_column_pairs(x, groups, pairs, {**settings, "device": where["device"]})
    return out, where


@ray.remote
def _where_task(device: str, hold: float) -> Dict[str, Any]:
    """This task's placement, after ``hold`` seconds (so that the tasks overlap)."""
    where = _placement(device)
    index = adapter_for(where["gpu_ids"])
    if index is not None:
        from . import devices

        where["adapter"] = devices()[index]["name"]
    else:
        where["adapter"] = None
    time.sleep(hold)
    return where


def _connect() -> None:
    """Ray initialised: connects as Ray's own first call would (RAY_ADDRESS, or a local
    instance)."""
    if not ray.is_initialized():
        ray.init()


def _gpus(num_gpus: Optional[float]) -> float:
    """Each task's GPUs: as given, else 1 where the cluster has GPUs and 0 where not."""
    if num_gpus is None:
        return 1.0 if ray.cluster_resources().get("GPU", 0) >= 1 else 0.0
    if num_gpus < 0 or num_gpus > 1:
        raise ValueError(
            f"invalid input: num_gpus must be in [0, 1] (a batched run trains on one adapter; "
            f"a fraction lets tasks share one), not {num_gpus}"
        )
    return float(num_gpus)


def _tasks(gpus: float, cpus: float) -> int:
    """How many tasks of this size the cluster runs at once (at least 1)."""
    res = ray.cluster_resources()
    slots = res.get("GPU", 0) / gpus if gpus > 0 else res.get("CPU", 0) / max(cpus, 1e-9)
    return max(1, int(slots))


def _settings(settings: Dict[str, Any]) -> Dict[str, Any]:
    """The estimate settings among ``settings`` as the native dict; an unknown keyword is a
    TypeError naming it."""
    try:
        return _many.settings(**settings)
    except TypeError as e:
        known = _many.settings.__kwdefaults__ or {}
        unknown = sorted(set(settings) - set(known))
        if unknown:
            raise TypeError(
                f"unknown keyword argument(s) {', '.join(unknown)}; the settings are "
                f"estimate's: {', '.join(sorted(known))}"
            ) from None
        raise e


def _progress(progress: Any) -> Tuple[Optional[TaskProgress], Callable[[], None]]:
    """``progress`` of a Ray call: True draws a bar of finished tasks (tqdm if installed,
    else a line on stderr); a callable receives (tasks finished, tasks in all)."""
    if progress is None or progress is False:
        return None, lambda: None
    if callable(progress):
        return progress, lambda: None
    if progress is not True:
        raise TypeError(
            f"progress must be None, True or a callable(done, total), not {type(progress).__name__}"
        )
    try:
        from tqdm.auto import tqdm
    except ImportError:
        state = {"line": False}

        def line(done: int, total: int) -> None:
            sys.stderr.write(f"\rinfobound on Ray: {done}/{total} tasks finished   ")
            sys.stderr.flush()
            state["line"] = True

        def end() -> None:
            if state["line"]:
                sys.stderr.write("\n")
                sys.stderr.flush()

        return line, end
    bar = tqdm(total=None, unit="task", desc="infobound on Ray", leave=False)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _gather(
    refs: List[Any], sizes: List[int], progress: Any
) -> List[Tuple[List[Any], Optional[Dict[str, Any]]]]:
    """Each task's (outcomes, placement), in task order, as they finish. A task that fails as
    a whole (a worker lost, an error raised outside the estimates) gives its error to each of
    its pairs. Ctrl-C cancels the tasks still running."""
    update, close = _progress(progress)
    out: List[Any] = [None] * len(refs)
    pending = {ref: k for k, ref in enumerate(refs)}
    try:
        if update:
            update(0, len(refs))
        while pending:
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                k = pending.pop(ref)
                try:
                    out[k] = ray.get(ref)
                except Exception as e:  # noqa: BLE001 - every pair of the task gets it
                    out[k] = ([e] * sizes[k], None)
                if update:
                    update(len(refs) - len(pending), len(refs))
    except KeyboardInterrupt:
        for ref in pending:
            ray.cancel(ref)
        raise
    finally:
        close()
    return out


def _where(k: int, n: int, where: Optional[Dict[str, Any]]) -> str:
    """A task's place, in words."""
    if where is None:
        return f"Ray task {k + 1} of {n}"
    return (
        f"Ray task {k + 1} of {n} on {where['node']} (GPU ids {where['gpu_ids']}, "
        f"device {where['device']})"
    )


def estimate_many(
    pairs: Sequence[Tuple[Any, Any]],
    *,
    num_gpus: Optional[float] = None,
    num_cpus: float = 1,
    pairs_per_task: Optional[int] = None,
    tasks: Optional[int] = None,
    progress: Any = None,
    errors: str = "raise",
    **settings: Any,
) -> List[Any]:
    """:func:`infobound.estimate_many` over a Ray cluster: the same results (one
    :class:`~infobound.Report` a pair, in order, nats), the same ``errors`` rule, and the same
    settings (``**settings``: :func:`infobound.estimate`'s keywords, ``replicas`` too,
    checked here before any task starts).

    The pairs are split by :func:`infobound.shards` (``pairs_per_task`` caps a task's pairs;
    ``tasks`` aims at that many tasks; with neither, about as many tasks as the cluster runs
    at once), one Ray task a shard with ``num_gpus`` GPUs (default: 1 where the cluster has
    GPUs, else 0; at most 1) and ``num_cpus`` CPUs. Each task trains its shard as one
    batched run on its worker (see the module's docstring for the device). The inputs are
    checked and coerced here, and copied (to f32) on the workers.

    A task that fails as a whole (a worker lost) fails each of its pairs with that error.
    ``progress``: True draws a bar of finished tasks; a callable receives
    ``(tasks_finished, tasks)``. Ctrl-C cancels the tasks still running.
    """
    _many.check_errors(errors)
    s = _settings(settings)
    arrays = as_pairs(pairs)
    runs = _many.plan_shapes([(x.shape, y.shape) for x, y in arrays], s)
    if not arrays:
        return []
    _connect()
    gpus = _gpus(num_gpus)
    if pairs_per_task is None and tasks is None:
        tasks = _tasks(gpus, num_cpus)
    shards = _many.split_runs(runs, len(arrays), pairs_per_task=pairs_per_task, tasks=tasks)
    task = _pairs_task.options(num_gpus=gpus, num_cpus=num_cpus)
    refs = [task.remote([arrays[i] for i in shard], s) for shard in shards]
    done = _gather(refs, [len(sh) for sh in shards], progress)
    results: List[Any] = [None] * len(arrays)
    for k, (shard, (outcomes, where)) in enumerate(zip(shards, done)):
        for i, r in zip(shard, outcomes):
            if isinstance(r, Report):
                here = _where(k, len(shards), where)
                r.batched = f"{r.batched}; {here}" if r.batched else here
            results[i] = r
    return _many.finish(results, errors)


def mi_matrix(
    x: Any,
    groups: Groups = None,
    *,
    each_column: bool = False,
    num_gpus: Optional[float] = None,
    num_cpus: float = 1,
    pairs_per_task: Optional[int] = None,
    tasks: Optional[int] = None,
    progress: Any = None,
    **settings: Any,
) -> MiMatrix:
    """:func:`infobound.mi_matrix` over a Ray cluster: the same :class:`~infobound.MiMatrix`
    (nats; bit for bit the local values on an adapter of the same kind), its pairs of column
    groups split over Ray tasks as :func:`estimate_many` splits pairs. ``x`` goes into Ray's
    object store once; each task copies it once and gathers the groups it needs.
    ``MiMatrix.runs`` names each task and where it ran. A failed pair is NaN, as locally.
    """
    s = _settings(settings)
    xa = as_rows(x, "x")
    resolved = resolve_groups(groups, each_column, xa.shape[1])
    g = len(resolved)
    index = [(i, j) for i in range(g) for j in range(i + 1, g)]
    n = xa.shape[0]
    shapes = [((n, len(resolved[i])), (n, len(resolved[j]))) for i, j in index]
    runs = _many.plan_shapes(shapes, s)
    _connect()
    gpus = _gpus(num_gpus)
    if pairs_per_task is None and tasks is None:
        tasks = _tasks(gpus, num_cpus)
    shards = _many.split_runs(runs, len(index), pairs_per_task=pairs_per_task, tasks=tasks)
    x_ref = ray.put(xa)
    task = _columns_task.options(num_gpus=gpus, num_cpus=num_cpus)
    refs = [task.remote(x_ref, resolved, [index[p] for p in shard], s) for shard in shards]
    done = _gather(refs, [len(sh) for sh in shards], progress)
    outcomes: List[Any] = [None] * len(index)
    texts = []
    for k, (shard, (out, where)) in enumerate(zip(shards, done)):
        here = _where(k, len(shards), where)
        (rx, wx), (_, wy) = shapes[shard[0]]
        texts.append(
            f"{here}: pairs {', '.join(map(str, shard))} ({wx} × {wy} columns, {rx} rows): "
            f"{len(shard) * s['replicas']} replicas"
        )
        for p, r in zip(shard, out):
            if isinstance(r, Report):
                r.batched = f"{r.batched}; {here}" if r.batched else here
            outcomes[p] = r
    m = assemble(resolved, list(zip(index, outcomes)), texts)
    _many.warn_failed(m)
    return m


def check_placement(
    tasks: Optional[int] = None,
    *,
    num_gpus: float = 1,
    device: str = "auto",
    hold: float = 1.0,
) -> List[Dict[str, Any]]:
    """Runs ``tasks`` tasks at once (default: as many as the cluster's GPUs allow) that
    each hold ``num_gpus`` GPUs for ``hold`` seconds and say where they would train: dicts
    with ``node``, ``pid``, ``gpu_ids`` (Ray's), ``device`` (the ``gpu:N`` it maps to) and
    ``adapter`` (that adapter's name, or None). On a node with several GPUs, tasks with
    different ``gpu_ids`` should show different ``device``s: the check that no two tasks
    share a card while another idles."""
    _connect()
    gpus = _gpus(num_gpus)
    if tasks is None:
        tasks = _tasks(gpus, 1) if gpus > 0 else 1
    task = _where_task.options(num_gpus=gpus, num_cpus=0)
    return list(ray.get([task.remote(device, hold) for _ in range(tasks)]))
