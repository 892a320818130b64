"""estimate_many, plan_many and shards: each pair's bits are its solo estimate's, the grouping
into batched runs, failures that stay with their pair, and the error convention."""

import json
import pickle
import subprocess
import sys

import numpy as np
import pytest

import infobound
from conftest import FAST, gaussian, gpu_required


def same_bits(a, b):
    """Two reports carry the same bits: estimate, errors, curves and evaluations."""
    assert a.mi == b.mi
    assert a.std_err == b.std_err
    assert a.steps == b.steps and a.chosen_step == b.chosen_step
    assert np.array_equal(a.train_curve, b.train_curve)
    assert np.array_equal(a.grad_norms, b.grad_norms, equal_nan=True)
    assert np.array_equal(a.test_curve, b.test_curve)
    assert a.ensemble == b.ensemble


@pytest.fixture(scope="module")
def mixed():
    """Pairs of three shapes, interleaved: (2000 × 1, 2000 × 1) twice, a 2-column x, and
    1500-row pairs, in float32, float64 and Fortran order."""
    x, y = gaussian(seed=1)
    x2, y2 = gaussian(d=2, seed=2)
    x3, y3 = gaussian(n=1500, seed=3)
    return [
        (x, y),
        (x2, y2[:, :1]),
        (x3.astype(np.float32), y3),
        (y, x**3),
        (np.asfortranarray(x2), y2[:, 1]),
        (x3, np.tanh(y3)),
    ]


def test_each_pair_gets_the_bits_it_gets_alone(mixed):
    many = infobound.estimate_many(mixed, **FAST)
    assert len(many) == len(mixed) and all(isinstance(r, infobound.Report) for r in many)
    for (x, y), r in zip(mixed, many):
        same_bits(r, infobound.estimate(x, y, **FAST))
        assert r.batched and "batched run" in r.batched


def test_the_grouping_puts_pairs_of_one_shape_together(mixed):
    plan = infobound.plan_many(mixed)
    assert [(p["pairs"], p["rows"], p["dims"], p["replicas"]) for p in plan] == [
        ([0, 3], 2000, (1, 1), 2),
        ([1, 4], 2000, (2, 1), 2),
        ([2, 5], 1500, (1, 1), 2),
    ]
    assert plan[1]["text"] == "pairs 1, 4 (2 × 1 columns, 2000 rows): 2 replicas"
    # Each report says where it ran, as the plan has it.
    many = infobound.estimate_many(mixed, **FAST)
    assert many[3].batched == "replica 2 of 2 in batched run 1 of 3 (1 × 1 columns, 2000 rows)"
    assert many[4].batched.startswith("replica 2 of 2 in batched run 2 of 3")
    # Seeds multiply the replicas.
    assert [p["replicas"] for p in infobound.plan_many(mixed, replicas=3)] == [6, 6, 6]


def test_a_large_request_is_split_into_runs_of_at_most_256_replicas():
    col = np.zeros((10, 1))
    pairs = [(col, col)] * 300
    assert [len(p["pairs"]) for p in infobound.plan_many(pairs)] == [256, 44]
    # Four seeds a pair: 64 pairs a run.
    plan = infobound.plan_many(pairs, replicas=4)
    assert [p["replicas"] for p in plan] == [256, 256, 256, 256, 176]


def test_a_pair_with_mismatched_rows_or_no_columns_fails_alone(xy):
    x, y = xy
    pairs = [(x, y), (x[:10], y), (np.zeros((2000, 0)), y), (y, x)]
    plan = infobound.plan_many(pairs)
    assert [p["pairs"] for p in plan] == [[0, 3], [1]]  # no columns: in no run
    out = infobound.estimate_many(pairs, errors="return", **FAST)
    assert isinstance(out[1], ValueError) and "10 rows" in str(out[1])
    assert isinstance(out[2], ValueError) and "invalid input" in str(out[2])
    same_bits(out[0], infobound.estimate(x, y, **FAST))
    same_bits(out[3], infobound.estimate(y, x, **FAST))


def test_nan_in_one_pair_fails_that_pair_with_estimates_message(xy):
    x, y = xy
    bad = x.copy()
    bad[5, 0] = np.nan
    out = infobound.estimate_many([(x, y), (bad, y), (y, x)], errors="return", **FAST)
    with pytest.raises(ValueError) as alone:
        infobound.estimate(bad, y, **FAST)
    assert type(out[1]) is ValueError and str(out[1]) == str(alone.value)
    assert "row 5, column 0" in str(out[1])
    same_bits(out[0], infobound.estimate(x, y, **FAST))
    same_bits(out[2], infobound.estimate(y, x, **FAST))


def test_a_diverging_pair_is_an_estimation_error_in_its_slot():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 1))
    near = x + 0.001 * rng.normal(size=(1000, 1))
    apart = rng.normal(size=(1000, 1))
    settings = dict(bound="nwj", lr=1.0, transform="none", **FAST)
    pairs = [(x, near), (x, apart)]
    out = infobound.estimate_many(pairs, errors="return", **settings)
    assert isinstance(out[0], infobound.EstimationError) and "diverged" in str(out[0])
    # Every slot is what estimate gives that pair alone: the same error, or the same bits.
    for (a, b), r in zip(pairs, out):
        try:
            solo = infobound.estimate(a, b, **settings)
        except infobound.EstimationError as e:
            assert type(r) is type(e) and str(r) == str(e)
        else:
            same_bits(r, solo)


def test_errors_raise_raises_the_first_failure_after_every_pair_ran(xy):
    x, y = xy
    pairs = [(x, y), (x[:10], y), (x[:20], y)]
    with pytest.raises(ValueError, match="10 rows") as caught:
        infobound.estimate_many(pairs, **FAST)
    e = caught.value
    assert e.pair == 1
    assert isinstance(e.results[0], infobound.Report)
    assert e.results[1] is e and isinstance(e.results[2], ValueError)
    same_bits(e.results[0], infobound.estimate(x, y, **FAST))
    with pytest.raises(ValueError, match='errors must be "raise" or "return"'):
        infobound.estimate_many(pairs, errors="ignore", **FAST)


@pytest.mark.parametrize(
    "setting, message",
    [
        (dict(batch=1), "batch"),
        (dict(steps=0), "steps must be positive"),
        (dict(replicas=0), "replicas must be positive, not 0"),
        (dict(replicas=-2), "replicas must be positive, not -2"),
        (dict(bound="nope"), "unknown bound"),
        (dict(bound="ba"), "decoder"),
        (dict(test_fraction=1.5), "test fraction"),
    ],
)
def test_a_bad_setting_raises_at_once_whatever_errors_says(xy, setting, message):
    with pytest.raises(ValueError, match=message):
        infobound.estimate_many([xy, xy], errors="return", **{**FAST, **setting})
    with pytest.raises(ValueError, match=message):
        infobound.plan_many([xy], **setting)


def test_inputs_are_checked_and_named_by_their_place(xy):
    x, y = xy
    with pytest.raises(TypeError, match=r"pairs\[1\]\[0\].*astype\(float\)"):
        infobound.estimate_many([(x, y), (x.astype(int), y)], **FAST)
    with pytest.raises(TypeError, match=r"pairs\[0\] must be an \(x, y\) pair"):
        infobound.estimate_many([x], **FAST)
    with pytest.raises(TypeError, match="sequence of"):
        infobound.estimate_many(x.sum(), **FAST)
    assert infobound.estimate_many([], **FAST) == []
    # Lists, 1-D arrays and generators are taken as estimate takes them.
    want = infobound.estimate(x, y, **FAST)
    got = infobound.estimate_many(((a[:, 0].tolist(), b[:, 0]) for a, b in [(x, y)]), **FAST)
    same_bits(got[0], want)


def test_progress_reports_runs_and_running_replicas(mixed, capsys):
    seen = []
    infobound.estimate_many(mixed, progress=seen.append, **FAST)
    assert seen and all(isinstance(p, infobound.BatchProgress) for p in seen)
    assert {p.run for p in seen} == {0, 1, 2} and {p.runs for p in seen} == {3}
    assert all(p.replicas == 2 and 0 <= p.running <= 2 for p in seen)
    assert seen[-1].step == seen[-1].total == 200
    assert all(p.latest_mi is None or np.isfinite(p.latest_mi) for p in seen)
    infobound.estimate_many(mixed[:2], progress=True, **FAST)
    err = capsys.readouterr().err
    assert "run 2/2" in err and "replicas running" in err
    with pytest.raises(TypeError, match="progress"):
        infobound.estimate_many(mixed[:1], progress="yes", **FAST)


def test_reports_and_errors_pickle_and_serialise(xy):
    x, y = xy
    out = infobound.estimate_many([(x, y), (x[:10], y)], errors="return", **FAST)
    back = pickle.loads(pickle.dumps(out))
    same_bits(back[0], out[0])
    assert type(back[1]) is ValueError and str(back[1]) == str(out[1])
    d = out[0].to_dict()
    assert d["batched"] == out[0].batched
    json.dumps(d, allow_nan=False)
    err = infobound.EstimationError("training diverged")
    assert type(pickle.loads(pickle.dumps(err))) is infobound.EstimationError


def test_shards_split_batched_runs_and_reproduce_the_whole(mixed):
    pairs = mixed * 3  # three shapes, six pairs each
    assert infobound.shards(pairs) == [
        [p for p in range(18) if p % 6 in (0, 3)],
        [p for p in range(18) if p % 6 in (1, 4)],
        [p for p in range(18) if p % 6 in (2, 5)],
    ]
    by_four = infobound.shards(pairs, pairs_per_task=4)
    assert [len(s) for s in by_four] == [3, 3] * 3
    assert sorted(i for s in by_four for i in s) == list(range(18))
    for shard in by_four:  # one shape a shard
        shapes = {tuple(np.reshape(a, (len(a), -1)).shape for a in pairs[i]) for i in shard}
        assert len(shapes) == 1
    assert [len(s) for s in infobound.shards(pairs, tasks=9)] == [2] * 9
    assert infobound.shards(pairs, tasks=2) == infobound.shards(pairs)  # runs never merge
    with pytest.raises(ValueError, match="not both"):
        infobound.shards(pairs, tasks=2, pairs_per_task=2)
    with pytest.raises(ValueError, match="pairs_per_task must be positive"):
        infobound.shards(pairs, pairs_per_task=0)
    # A pair in no run (no columns) makes a last shard of its own.
    odd = [mixed[0], (np.zeros((5, 0)), np.zeros((5, 1)))]
    assert infobound.shards(odd) == [[0], [1]]
    # Each shard run on its own (as a Slurm array's task would) gives the whole's bits.
    whole = infobound.estimate_many(pairs[:6], **FAST)
    for shard in infobound.shards(pairs[:6], pairs_per_task=1):
        (r,) = infobound.estimate_many([pairs[i] for i in shard], **FAST)
        same_bits(r, whole[shard[0]])


def test_on_the_gpu_each_pair_and_seed_gets_its_solo_bits():
    if not infobound.devices():
        if gpu_required():
            pytest.fail("INFOBOUND_REQUIRE_GPU=1 but no adapter")
        pytest.skip("no GPU adapter")
    x, y = gaussian(n=1000)
    gpu = dict(device="gpu", hidden=[16], embed=8, steps=100, batch=64)
    pairs = [(x, y), (y, x**3)]
    many = infobound.estimate_many(pairs, **gpu)
    for (a, b), r in zip(pairs, many):
        same_bits(r, infobound.estimate(a, b, **gpu))
    ensemble = infobound.estimate(x, y, replicas=2, **gpu).ensemble
    assert ensemble["estimates"] == [infobound.estimate(x, y, seed=s, **gpu).mi for s in (0, 1)]


def test_importing_infobound_does_not_import_ray():
    code = "import sys, infobound; assert 'ray' not in sys.modules, 'ray imported'"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
