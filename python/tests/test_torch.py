"""The torch wrapper and torch tensors as inputs (skipped without torch)."""

import numpy as np
import pytest

import infobound
from conftest import FAST

torch = pytest.importorskip("torch")


def test_cpu_tensors_are_inputs(xy):
    x, y = (torch.from_numpy(a.astype(np.float32)) for a in xy)
    want = infobound.estimate(x.numpy(), y.numpy(), **FAST).mi
    assert infobound.estimate(x, y, **FAST).mi == want
    assert infobound.estimate(x.requires_grad_(), y, **FAST).mi == want


def test_contrastive_loss_module_backpropagates():
    from infobound.torch import ContrastiveLoss

    g = torch.randn(16, 4, dtype=torch.float64, requires_grad=True)
    h = torch.randn(16, 4, dtype=torch.float64, requires_grad=True)
    loss = ContrastiveLoss(temperature=0.5, device="cpu")(g, h)
    (2 * loss).backward()
    want, dg, dh = infobound.contrastive_loss(
        g.detach().numpy(), h.detach().numpy(), 0.5, device="cpu"
    )
    assert loss.item() == pytest.approx(want)
    np.testing.assert_allclose(g.grad.numpy(), 2 * dg, rtol=1e-6)
    np.testing.assert_allclose(h.grad.numpy(), 2 * dh, rtol=1e-6)
