"""PyTorch wrappers (needs torch): :class:`ContrastiveLoss`, the contrastive loss of
:func:`infobound.contrastive_loss` as an ``autograd.Function`` and an ``nn.Module``.

Each call copies the embeddings to host memory (``.detach().cpu()``), computes the loss and
both gradients there or on infobound's own wgpu device, and copies the gradients back to the
tensors' device: it drops into a training loop, at the cost of two host round trips a step.
"""

from __future__ import annotations

from typing import Any, Tuple

import torch

from . import contrastive_loss as _contrastive_loss


class ContrastiveLossFunction(torch.autograd.Function):
    """``apply(g, h, temperature, symmetric, device)``: the loss (nats, a 0-d tensor) with
    its gradients computed in the forward pass and scaled in the backward pass."""

    @staticmethod
    def forward(  # type: ignore[override]
        ctx: Any, g: torch.Tensor, h: torch.Tensor, temperature: float, symmetric: bool, device: str
    ) -> torch.Tensor:
        # The host copies: infobound reads host memory.
        gh = g.detach().to("cpu", torch.float32).numpy()
        hh = h.detach().to("cpu", torch.float32).numpy()
        loss, dg, dh = _contrastive_loss(gh, hh, temperature, symmetric, device=device)
        ctx.save_for_backward(
            torch.from_numpy(dg).to(g.device, g.dtype), torch.from_numpy(dh).to(h.device, h.dtype)
        )
        return torch.tensor(loss, dtype=g.dtype, device=g.device)

    @staticmethod
    def backward(  # type: ignore[override]
        ctx: Any, grad: torch.Tensor
    ) -> Tuple[torch.Tensor, torch.Tensor, None, None, None]:
        dg, dh = ctx.saved_tensors
        return grad * dg, grad * dh, None, None, None


class ContrastiveLoss(torch.nn.Module):
    """The contrastive loss (nats) of embeddings g, h (K × e; row i of each a positive pair):
    InfoNCE at ``temperature``, or CLIP's symmetric form. Host copies each call (see the
    module's docstring)."""

    def __init__(self, temperature: float = 1.0, symmetric: bool = False, device: str = "auto"):
        super().__init__()
        self.temperature = float(temperature)
        self.symmetric = bool(symmetric)
        self.device_choice = device

    def forward(self, g: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """The loss, a 0-d tensor on g's device; backward fills g.grad and h.grad."""
        return ContrastiveLossFunction.apply(
            g, h, self.temperature, self.symmetric, self.device_choice
        )

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}, symmetric={self.symmetric}"
