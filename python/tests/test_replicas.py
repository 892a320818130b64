"""Seed ensembles: estimate(replicas=r) trains seeds seed … seed + r − 1 side by side, each
with its solo bits, and reports their spread."""

import json
import math

import numpy as np
import pytest

import infobound
from conftest import FAST


def test_each_seed_of_the_ensemble_is_its_solo_estimate(xy):
    r = infobound.estimate(*xy, seed=7, replicas=3, **FAST)
    e = r.ensemble
    assert e is not None and r.seed == 7
    assert e["seeds"] == [7, 8, 9] and e["errors"] == [None, None, None]
    for i, seed in enumerate(e["seeds"]):
        solo = infobound.estimate(*xy, seed=seed, **FAST)
        assert e["estimates"][i] == solo.mi
        assert e["std_errs"][i] == solo.std_err
        if i == 0:  # the curves are the first seed's
            assert np.array_equal(r.train_curve, solo.train_curve)
            assert np.array_equal(r.test_curve, solo.test_curve)
    assert e["mean"] == pytest.approx(np.mean(e["estimates"]), abs=1e-12)
    assert r.mi == e["mean"]
    assert e["sd"] == pytest.approx(np.std(e["estimates"], ddof=1), rel=1e-9)
    # The mean's error: the seeds' sampling error and sd / √r in quadrature.
    assert r.std_err == pytest.approx(math.hypot(r.std_err_sampling, r.std_err_optimisation))
    assert r.std_err_optimisation >= e["sd"] / math.sqrt(3) - 1e-12


def test_one_replica_is_the_plain_estimate(xy):
    one = infobound.estimate(*xy, replicas=1, **FAST)
    plain = infobound.estimate(*xy, **FAST)
    assert one.ensemble is None and one.mi == plain.mi
    assert np.array_equal(one.train_curve, plain.train_curve)


@pytest.mark.parametrize("replicas", [0, -1])
def test_replicas_below_one_are_refused(xy, replicas):
    message = f"invalid input: replicas must be positive, not {replicas}"
    with pytest.raises(ValueError, match=message):
        infobound.estimate(*xy, replicas=replicas, **FAST)


def test_the_ensemble_in_to_dict_and_bits(xy):
    r = infobound.estimate(*xy, replicas=2, **FAST)
    d = r.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["seed"] == 0 and d["ensemble"]["seeds"] == [0, 1]
    assert d["ensemble"]["estimates"] == r.ensemble["estimates"]
    assert d["ensemble"]["mean"] == r.mi and d["ensemble"]["errors"] == [None, None]
    bits = r.to_dict(bits=True)["ensemble"]
    assert bits["sd"] == pytest.approx(r.ensemble["sd"] / math.log(2))
    assert bits["estimates"][1] == pytest.approx(r.ensemble["estimates"][1] / math.log(2))


def test_ensembles_in_estimate_many_are_estimates_ensembles(xy):
    x, y = xy
    pairs = [(x, y), (y, x**2)]
    many = infobound.estimate_many(pairs, replicas=2, seed=3, **FAST)
    for (a, b), r in zip(pairs, many):
        solo = infobound.estimate(a, b, replicas=2, seed=3, **FAST)
        assert r.ensemble == solo.ensemble and r.mi == solo.mi and r.std_err == solo.std_err
    assert many[1].batched.startswith("replicas 3–4 of 4 in batched run 1 of 1")
