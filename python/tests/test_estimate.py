"""estimate(): dtypes, memory orders, array-likes, determinism, the report's fields."""

import json
import math
import pickle

import numpy as np
import pytest

import infobound
from conftest import FAST, TRUE_MI, gpu_required

#: The keys of `infobound estimate --json`, in its order (src/bin/infobound/json.rs).
CLI_KEYS = [
    "mi", "std_err", "ceiling", "unit", "bound", "critic", "n", "n_test", "evaluation",
    "dim_x", "dim_y", "batch", "steps", "seconds", "steps_per_second", "adapter",
    "grad_norm_max", "grad_norm_final", "runaway_step", "warnings", "evaluations",
    "transform", "device_reason", "geometry", "diagnostics", "n_report", "selection", "chosen_step",
    "std_err_sampling", "std_err_optimisation", "cross_check", "cross_check_note", "seed",
    "ensemble", "batched",
]


def test_estimate_reads_near_the_truth_and_fills_the_report(xy):
    r = infobound.estimate(*xy, **FAST)
    assert isinstance(r, infobound.Report)
    assert abs(r.mi - TRUE_MI) < 0.15
    assert r.unit == "nats" and r.bits == pytest.approx(r.mi / math.log(2))
    assert r.std_err > 0 and r.steps == 200 and r.n == 2000 and r.n_test == 400
    assert r.train_curve.shape == (200,) and r.train_curve.dtype == np.float32
    assert r.grad_norms.shape == (200,)
    assert r.test_curve.shape == (2, 3)
    assert list(r.test_curve[:, 0]) == [100.0, 200.0]
    # The step is chosen on one half of the held-out rows and read on the other.
    chosen = r.test_curve[r.test_curve[:, 0] == r.chosen_step]
    assert chosen.shape == (1, 3) and chosen[0, 1] == r.test_curve[:, 1].max()
    assert r.n_report == 200 and f"step {r.chosen_step}" in r.selection
    assert r.std_err == pytest.approx(math.hypot(r.std_err_sampling, r.std_err_optimisation))
    assert r.cross_check is not None and not r.cross_check["disagrees"]
    assert r.cross_check["ceiling"] == pytest.approx(math.log(200))
    assert "consistent" in r.cross_check_note
    assert "CPU" in r.device and r.device_reason
    assert r.transform == "rank-gauss" and r.evaluation
    assert r.seconds > 0 and r.steps_per_second > 0
    assert isinstance(r.warnings, list) and isinstance(r.diagnostics, list)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_dtypes_and_orders_give_the_same_bits(xy, dtype, order):
    x, y = (np.hstack([a, a**2]).astype(np.float32) for a in xy)
    want = infobound.estimate(x, y, **FAST).mi
    xs, ys = (np.asarray(a, dtype=dtype, order=order) for a in (x, y))
    assert xs.flags["F_CONTIGUOUS"] == (order == "F")
    assert infobound.estimate(xs, ys, **FAST).mi == want


def test_strided_views_lists_and_1d_inputs(xy):
    x, y = (a.astype(np.float32) for a in xy)
    want = infobound.estimate(x, y, **FAST).mi
    assert infobound.estimate(x[:, 0], y[:, 0], **FAST).mi == want
    assert infobound.estimate(x.tolist(), y.tolist(), **FAST).mi == want
    wide = np.repeat(x, 3, axis=1)[:, ::3]  # a non-contiguous view
    assert not wide.flags["C_CONTIGUOUS"]
    assert infobound.estimate(wide, y, **FAST).mi == want


def test_the_same_seed_gives_the_same_bits_and_another_seed_differs(xy):
    a = infobound.estimate(*xy, seed=3, **FAST)
    b = infobound.estimate(*xy, seed=3, **FAST)
    c = infobound.estimate(*xy, seed=4, **FAST)
    assert a.mi == b.mi and np.array_equal(a.train_curve, b.train_curve)
    assert c.mi != a.mi


def test_settings_reach_the_library(xy):
    r = infobound.estimate(
        *xy, bound="infonce", critic="concat", batch=64, lr=2e-3, transform="standardize",
        test_fraction=0.25, device="cpu", hidden=16, steps=100,
    )
    assert (r.bound, r.critic, r.batch, r.transform) == ("infonce", "concat", 64, "standardize")
    assert r.n_test == 500
    assert r.ceiling == pytest.approx(math.log(64))


def test_no_held_out_rows_averages_training_steps(xy):
    r = infobound.estimate(*xy, test_fraction=0.0, **FAST)
    assert r.n_test == 0 and r.test_curve.shape == (0, 3) and math.isfinite(r.mi)


def test_to_dict_has_the_cli_json_fields_and_serialises(xy):
    r = infobound.estimate(*xy, **FAST)
    d = r.to_dict()
    assert list(d) == CLI_KEYS
    json.dumps(d, allow_nan=False)
    assert d["mi"] == r.mi and d["adapter"] == r.device and d["unit"] == "nats"
    assert len(d["evaluations"]) == 2 and d["evaluations"][0]["step"] == 100
    bits = r.to_dict(bits=True)
    assert bits["unit"] == "bits" and bits["mi"] == pytest.approx(r.bits)


def test_reports_pickle_and_print(xy):
    r = infobound.estimate(*xy, **FAST)
    back = pickle.loads(pickle.dumps(r))
    assert back.mi == r.mi and np.array_equal(back.test_curve, r.test_curve)
    assert "nats" in repr(r) and "bits" in repr(r) and "smile" in repr(r)
    assert str(r).startswith("I(X; Y) = ")


def test_bound_names_are_the_clis():
    names = infobound.bound_names()
    assert {"smile", "infonce", "nwj", "mine", "js", "ba", "ms"} <= set(names)


def _rule_geometry_file(path):
    """A geometry file as `infobound tune --save` writes it (lavapipe's rule, 4×8 backward)."""
    line = {"workgroup": 64, "shared": False, "chunk": 64, "staged": 0}
    geometry = {
        "gemm": {"rows": 4, "cols": 4, "threads_x": 16, "threads_y": 16, "tile_k": 0},
        "gemm_split_k": 0,
        "fused_forward": dict(line, rows=4, cols=4),
        "fused_backward": dict(line, rows=4, cols=8),
    }
    path.write_text(json.dumps(geometry))
    return path


def test_a_pinned_geometry_is_named_and_reproduces_its_bits(xy, tmp_path):
    if not infobound.devices() and not gpu_required():
        pytest.skip("no GPU adapter (CI requires one)")
    x, y = xy
    path = _rule_geometry_file(tmp_path / "geometry.json")
    settings = dict(FAST, device="gpu", steps=40, batch=32)
    runs = [infobound.estimate(x, y, geometry=path, **settings) for _ in range(2)]
    assert runs[0].mi == runs[1].mi
    named = " ".join(runs[0].geometry)
    assert "(pinned)" in named and "4×8 wg64" in named, named
    rule = infobound.estimate(x, y, geometry="rule", **settings)
    assert "(rule)" in " ".join(rule.geometry)


def test_a_bad_geometry_file_is_a_value_error(xy, tmp_path):
    x, y = xy
    bad = tmp_path / "bad.json"
    bad.write_text('{"gemm": "direct"}')
    with pytest.raises(ValueError, match="geometry"):
        infobound.estimate(x, y, geometry=bad, **FAST)
    with pytest.raises(ValueError, match="geometry"):
        infobound.estimate(x, y, geometry=str(tmp_path / "missing.json"), **FAST)
