"""infobound.ray on a local Ray cluster (2 CPUs and 2 declared GPUs, so that tasks get GPU
ids): the results are the local run's, bit for bit, in order, with failures in place. Skipped
where Ray is not installed (an optional extra: pip install "infobound[ray]")."""

import numpy as np
import pytest

ray = pytest.importorskip("ray")

import infobound  # noqa: E402
import infobound.ray as iray  # noqa: E402
from conftest import FAST, gaussian  # noqa: E402
from test_many import same_bits  # noqa: E402


@pytest.fixture(scope="module")
def cluster():
    """A local Ray instance for this module (about 5 s to start)."""
    ray.init(num_cpus=2, num_gpus=2, include_dashboard=False, log_to_driver=False,
             configure_logging=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def pairs():
    x, y = gaussian(seed=1)
    x2, y2 = gaussian(d=2, seed=2)
    bad = x.copy()
    bad[3, 0] = np.nan
    return [(x, y), (x2, y2), (y, x**3), (bad, y), (x2, y2[:, :1]), (x[:10], y), (y2, x2)]


def test_estimate_many_on_ray_is_the_local_run(cluster, pairs):
    local = infobound.estimate_many(pairs, errors="return", **FAST)
    remote = iray.estimate_many(pairs, errors="return", **FAST)
    assert len(remote) == len(pairs)
    for i, (a, b) in enumerate(zip(local, remote)):
        if isinstance(a, Exception):
            assert type(b) is type(a) and str(b) == str(a), i
        else:
            same_bits(a, b)
            # Where it ran: the worker's batched run, then the task, node, GPU ids, device.
            assert "batched run" in b.batched and "Ray task" in b.batched
            assert "GPU ids [" in b.batched and "device cpu" in b.batched


def test_one_task_a_pair_and_errors_raise(cluster, pairs):
    remote = iray.estimate_many(pairs[:3], pairs_per_task=1, **FAST)
    assert [r.batched.split("; ")[1].split(" on ")[0] for r in remote] == [
        "Ray task 1 of 3", "Ray task 3 of 3", "Ray task 2 of 3",
    ]
    with pytest.raises(ValueError, match="row 3, column 0") as caught:
        iray.estimate_many(pairs, **FAST)
    assert caught.value.pair == 3 and len(caught.value.results) == len(pairs)


def test_settings_are_checked_before_any_task(cluster, pairs):
    with pytest.raises(ValueError, match="replicas must be positive"):
        iray.estimate_many(pairs, replicas=0, **FAST)
    with pytest.raises(TypeError, match="unknown keyword argument"):
        iray.estimate_many(pairs, stepz=3, **FAST)
    with pytest.raises(ValueError, match="num_gpus"):
        iray.estimate_many(pairs, num_gpus=2, **FAST)
    assert iray.estimate_many([], **FAST) == []


def test_the_ray_shortcut_and_replicas(cluster, pairs):
    local = infobound.estimate_many(pairs[:3], replicas=2, **FAST)
    remote = infobound.estimate_many(pairs[:3], replicas=2, ray=True, **FAST)
    for a, b in zip(local, remote):
        same_bits(a, b)


def test_mi_matrix_on_ray_is_the_local_matrix(cluster):
    x, y = gaussian(n=1200, d=2, seed=9)
    data = np.hstack([x, y, np.tanh(x[:, :1])])
    groups = [[0, 1], [2], [3], [4]]
    local = infobound.mi_matrix(data, groups, **FAST)
    remote = iray.mi_matrix(data, groups, pairs_per_task=2, **FAST)
    assert np.array_equal(remote.values, local.values, equal_nan=True)
    assert np.array_equal(remote.std_errs, local.std_errs, equal_nan=True)
    for (ij, a), (ij2, b) in zip(local.pairs, remote.pairs):
        assert ij == ij2
        same_bits(a, b)
    # Two runs of three pairs, two pairs a task: four tasks.
    assert len(remote.runs) == 4 and all(t.startswith("Ray task") for t in remote.runs)
    assert "pairs 0, 1 (2 × 1 columns, 1200 rows): 2 replicas" in remote.runs[0]
    shortcut = infobound.mi_matrix(data, groups, ray=True, **FAST)
    assert np.array_equal(shortcut.values, local.values, equal_nan=True)


def test_tasks_holding_different_gpus_map_to_the_adapters_of_their_ids(cluster):
    where = iray.check_placement(num_gpus=1, hold=0.5)
    assert len(where) == 2
    assert sorted(w["gpu_ids"][0] for w in where) == [0, 1]
    for w in where:
        index = iray.adapter_for(w["gpu_ids"])
        assert w["device"] == ("auto" if index is None else f"gpu:{index}")
    # A task holding no GPU trains on the CPU unless told otherwise.
    assert iray.task_device("auto", []) == "cpu"
    assert iray.task_device("cpu-reference", [1]) == "cpu-reference"
