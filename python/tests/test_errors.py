"""The error mapping: bad input is ValueError/TypeError with the library's one line, a
failure while running is EstimationError (a RuntimeError)."""

import numpy as np
import pytest

import infobound
from conftest import FAST


def test_nan_names_the_row_and_column(xy):
    x, y = xy
    x = x.copy()
    x[5, 0] = np.nan
    with pytest.raises(ValueError, match="row 5, column 0"):
        infobound.estimate(x, y, **FAST)


def test_infinity_in_y_is_refused(xy):
    x, y = xy
    y = y.copy()
    y[7, 0] = np.inf
    with pytest.raises(ValueError, match="invalid input"):
        infobound.estimate(x, y, **FAST)


def test_mismatched_rows(xy):
    x, y = xy
    with pytest.raises(ValueError, match="x has 10 rows but y has 2000"):
        infobound.estimate(x[:10], y, **FAST)


@pytest.mark.parametrize("dtype", [np.int64, np.int32, np.bool_])
def test_integers_say_astype_float(xy, dtype):
    x, y = xy
    with pytest.raises(TypeError, match=r"astype\(float\)"):
        infobound.estimate(x.astype(dtype), y, **FAST)


def test_complex_and_float16_are_refused(xy):
    x, y = xy
    with pytest.raises(TypeError, match="complex"):
        infobound.estimate(x.astype(np.complex128), y, **FAST)
    with pytest.raises(TypeError, match="float32"):
        infobound.estimate(x.astype(np.float16), y, **FAST)


def test_three_dimensions_are_refused(xy):
    x, y = xy
    with pytest.raises(ValueError, match="3-D"):
        infobound.estimate(x.reshape(-1, 1, 1), y, **FAST)


class _FakeCudaTensor:
    """Stands in for a CUDA tensor (torch is optional): its module is torch's."""

    __module__ = "torch"

    class device:  # noqa: N801 - mimics torch.device's attribute
        type = "cuda"

        def __str__(self):
            return "cuda:0"

    device = device()


def test_cuda_tensors_say_cpu(xy):
    with pytest.raises(TypeError, match=r"\.cpu\(\)"):
        infobound.estimate(_FakeCudaTensor(), xy[1], **FAST)


@pytest.mark.parametrize(
    "setting, message",
    [
        (dict(bound="nope"), "unknown bound"),
        (dict(critic="nope"), "unknown critic"),
        (dict(device="tpu"), "unknown device"),
        (dict(transform="log"), "unknown transform"),
        (dict(critic="concat", embed=8), "embed applies only"),
        (dict(test_fraction=1.5), "invalid input"),
        (dict(batch=1), "invalid input"),
        (dict(steps=0), "invalid input"),
        (dict(hidden=[0]), "invalid input"),
    ],
)
def test_bad_settings_are_value_errors(xy, setting, message):
    settings = {**FAST, **setting}
    if "embed" not in setting:
        settings.pop("embed")
    with pytest.raises(ValueError, match=message):
        infobound.estimate(*xy, **settings)


def test_divergence_is_an_estimation_error():
    assert issubclass(infobound.EstimationError, RuntimeError)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 1))
    y = x + 0.001 * rng.normal(size=(1000, 1))
    with pytest.raises(infobound.EstimationError, match="diverged"):
        infobound.estimate(x, y, bound="nwj", lr=1.0, transform="none", **FAST)


def test_a_failing_progress_callback_stops_the_run(xy):
    def boom(step, rate, mi):
        raise ZeroDivisionError("from the callback")

    with pytest.raises(ZeroDivisionError, match="from the callback"):
        infobound.estimate(*xy, progress=boom, **FAST)
    # The next run is unaffected.
    assert infobound.estimate(*xy, **FAST).steps == 200
