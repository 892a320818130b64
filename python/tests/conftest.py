"""Shared fixtures: small correlated-Gaussian data and the fast settings every test trains
with (the CPU backend, a tiny critic, few steps), so the suite runs in well under a minute."""

import os

import numpy as np
import pytest

#: Settings that keep a run to a fraction of a second on the CPU backend.
FAST = dict(device="cpu", hidden=[16], embed=8, steps=200)

#: The true MI of the fixture's pairs: −½ ln(1 − ρ²) nats at ρ = 0.8.
RHO = 0.8
TRUE_MI = -0.5 * np.log(1 - RHO**2)


def gaussian(n=2000, d=1, seed=0):
    """n rows of d independent pairs (x_j, y_j) with correlation RHO, float64."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d))
    y = RHO * x + np.sqrt(1 - RHO**2) * rng.normal(size=(n, d))
    return x, y


@pytest.fixture
def xy():
    """The fixture pairs: 2 000 rows, one column each."""
    return gaussian()


def gpu_required():
    """Whether CI demands a GPU adapter (as the Rust tests do)."""
    return os.environ.get("INFOBOUND_REQUIRE_GPU") == "1"
