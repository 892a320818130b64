"""staircase(), mine_demo() and devices(), plus the one GPU smoke test CI requires."""

import numpy as np
import pytest

import infobound
from conftest import FAST, gpu_required


def test_staircase_returns_one_row_a_stage():
    r = infobound.staircase(
        dim=2, mis=[0.5, 1.0], steps_per_stage=40, hidden=[16], embed=8, batch=32,
        device="cpu",
    )
    assert [s["true_mi"] for s in r["stages"]] == [0.5, 1.0]
    assert set(r["stages"][0]) == {"true_mi", "mean", "bias", "variance", "mse"}
    assert r["estimates"].shape == (80,) and "CPU" in r["device"]


def test_staircase_refuses_a_bad_schedule():
    with pytest.raises(ValueError):
        infobound.staircase(mis=[], device="cpu")


def test_mine_demo_returns_one_row_a_rho():
    r = infobound.mine_demo(dim=1, rhos=[0.5, 0.9], steps=40, hidden=[16], batch=32, device="cpu")
    assert [row["rho"] for row in r["rows"]] == [0.5, 0.9]
    row = r["rows"][0]
    assert row["true_mi"] == pytest.approx(-0.5 * np.log(1 - 0.25))
    assert {"biased_final", "ema_final", "biased_max_grad_norm", "ema_diverged_at"} <= set(row)


def test_mine_demo_refuses_a_bad_alpha():
    with pytest.raises(ValueError, match="α"):
        infobound.mine_demo(alpha=2.0, device="cpu")


def test_devices_are_indexed_dicts():
    ds = infobound.devices()
    assert [d["index"] for d in ds] == list(range(len(ds)))
    for d in ds:
        assert {"name", "backend", "device_type", "driver", "is_software", "chosen"} <= set(d)
    assert sum(d["chosen"] for d in ds) <= 1
    if gpu_required():
        assert ds, "INFOBOUND_REQUIRE_GPU=1 but no adapter"


def test_gpu_smoke(xy):
    """One small estimate on adapter 0 (lavapipe in CI); skipped without an adapter unless CI
    requires one."""
    if not infobound.devices():
        if gpu_required():
            pytest.fail("INFOBOUND_REQUIRE_GPU=1 but no adapter")
        pytest.skip("no GPU adapter")
    r = infobound.estimate(*xy, **{**FAST, "device": "gpu:0", "steps": 100})
    assert np.isfinite(r.mi) and "CPU reference" not in r.device
