"""contrastive_loss() against a numpy InfoNCE, and sandwich()'s report."""

import numpy as np
import pytest

import infobound


def _logsumexp(s, axis):
    m = s.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(s - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def _infonce(g, h, t):
    """The row-wise InfoNCE loss and its gradients, in f64."""
    k = g.shape[0]
    s = g @ h.T / t
    loss = np.mean(_logsumexp(s, 1) - np.diag(s))
    p = np.exp(s - _logsumexp(s, 1)[:, None])
    ds = (p - np.eye(k)) / k
    return loss, ds @ h / t, ds.T @ g / t


@pytest.fixture
def gh():
    rng = np.random.default_rng(1)
    g = rng.normal(size=(16, 4))
    return g, g + 0.5 * rng.normal(size=(16, 4))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_contrastive_loss_matches_numpy(gh, dtype):
    g, h = (a.astype(dtype) for a in gh)
    loss, dg, dh = infobound.contrastive_loss(g, h, temperature=0.5, device="cpu")
    want, wg, wh = _infonce(g.astype(np.float64), h.astype(np.float64), 0.5)
    assert loss == pytest.approx(want, rel=1e-5)
    assert dg.shape == dh.shape == (16, 4) and dg.dtype == np.float32
    np.testing.assert_allclose(dg, wg, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dh, wh, rtol=1e-4, atol=1e-6)


def test_symmetric_is_the_mean_of_both_directions(gh):
    g, h = (a.astype(np.float32) for a in gh)
    loss, dg, dh = infobound.contrastive_loss(g, h, 1.0, True, device="cpu")
    rows, rg, rh = _infonce(g.astype(np.float64), h.astype(np.float64), 1.0)
    cols, ch, cg = _infonce(h.astype(np.float64), g.astype(np.float64), 1.0)
    assert loss == pytest.approx((rows + cols) / 2, rel=1e-5)
    np.testing.assert_allclose(dg, (rg + cg) / 2, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(dh, (rh + ch) / 2, rtol=1e-4, atol=1e-6)


def test_contrastive_loss_refuses_bad_input(gh):
    g, h = gh
    with pytest.raises(ValueError, match="K × e"):
        infobound.contrastive_loss(g, h[:, :3], device="cpu")
    with pytest.raises(ValueError, match="temperature"):
        infobound.contrastive_loss(g, h, temperature=0.0, device="cpu")
    g = g.copy()
    g[0, 0] = np.nan
    with pytest.raises(ValueError, match="not finite"):
        infobound.contrastive_loss(g, h, device="cpu")


def test_sandwich_bounds_and_gradients():
    rng = np.random.default_rng(2)
    mu = rng.normal(size=(64, 2))
    sigma = np.full((64, 2), 0.5)
    y = mu + sigma * rng.normal(size=(64, 2))
    r = infobound.sandwich(y, mu, sigma, device="cpu", gradients=True)
    assert r["lower"] <= r["upper"] and r["k"] == 64 and r["n"] == 64 and r["blocks"] == 1
    for key in ("lower_grad", "upper_grad"):
        assert {k: v.shape for k, v in r[key].items()} == {
            "mu": (64, 2), "sigma": (64, 2), "y": (64, 2),
        }
    blocked = infobound.sandwich(y, mu, sigma, block=16, device="cpu")
    assert blocked["blocks"] == 4 and blocked["lower_grad"] is None


def test_sandwich_refuses_a_non_positive_sigma():
    mu = np.zeros((8, 1))
    with pytest.raises(ValueError, match="invalid input"):
        infobound.sandwich(mu, mu, np.zeros((8, 1)), device="cpu")
