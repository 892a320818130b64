"""Inputs: any 1-D/2-D array-like of floats, or a CPU torch tensor, as the 2-D float32/float64
ndarray the native module copies once into its own row-major f32 rows.

No copy is made here for a float32/float64 ndarray in C or Fortran order, or for a CPU tensor
(``numpy.asarray`` views its memory): the one copy is the native module's, made while the GIL
is still held.
"""

from __future__ import annotations

from typing import Any, Iterable, List, Tuple

import numpy as np


def _is_torch_tensor(a: Any) -> bool:
    """Whether ``a`` is a torch tensor, without importing torch."""
    return type(a).__module__.split(".")[0] == "torch" and hasattr(a, "device")


def as_rows(a: Any, name: str) -> np.ndarray:
    """``a`` as a 2-D float32 or float64 ndarray (a 1-D input becomes one column).

    Raises ``TypeError`` for integers, booleans, complex numbers, other float widths and CUDA
    tensors, saying what to pass instead; ``ValueError`` for more than two dimensions.
    """
    if _is_torch_tensor(a):
        device = a.device
        if getattr(device, "type", "cpu") != "cpu":
            raise TypeError(
                f"{name} is a torch tensor on {device}; infobound reads host memory: "
                f"pass {name}.cpu() (or {name}.detach().cpu())"
            )
        # A tensor that requires grad refuses __array__; its values are all we read.
        a = a.detach()
    arr = np.asarray(a)
    kind = arr.dtype.kind
    if kind in "biu":
        raise TypeError(
            f"{name} has dtype {arr.dtype}; infobound estimates MI of real values: "
            f"pass {name}.astype(float) (or a float32 array)"
        )
    if kind == "c":
        raise TypeError(
            f"{name} is complex ({arr.dtype}); pass real columns, e.g. "
            f"np.column_stack([{name}.real, {name}.imag])"
        )
    if arr.dtype not in (np.float32, np.float64):
        raise TypeError(
            f"{name} has dtype {arr.dtype}; pass float32 or float64: {name}.astype(np.float32)"
        )
    if not arr.dtype.isnative:
        # Rare (a big-endian file): the one case with a second copy.
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.ndim == 1:
        return arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise ValueError(
            f"invalid input: {name} is {arr.ndim}-D; pass 1-D (one column) or 2-D (rows × columns)"
        )
    return arr


def as_pairs(pairs: Any) -> List[Tuple[np.ndarray, np.ndarray]]:
    """``pairs`` (an iterable of (x, y) array-likes) as 2-D float ndarrays, each checked as
    :func:`as_rows` checks it and named in errors by its place (``pairs[3][0]`` is the x of
    the fourth pair). No data are copied here (see the module's docstring)."""
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Iterable):
        raise TypeError(
            f"pairs must be a sequence of (x, y) pairs of arrays, not {type(pairs).__name__}"
        )
    out = []
    for i, pair in enumerate(pairs):
        try:
            x, y = pair
        except (TypeError, ValueError):
            raise TypeError(
                f"pairs[{i}] must be an (x, y) pair of arrays, not {type(pair).__name__}"
            ) from None
        out.append((as_rows(x, f"pairs[{i}][0]"), as_rows(y, f"pairs[{i}][1]")))
    return out
