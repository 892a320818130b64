"""The report of an estimate: a plain dataclass (so it pickles, and comes back from worker
processes), built from the dict the native module returns."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional

import numpy as np

LN_2 = math.log(2.0)


def _finite_or_none(v: Optional[float]) -> Optional[float]:
    """JSON's rule, as the CLI writes it: NaN and ±∞ become None (null)."""
    if v is None or not math.isfinite(v):
        return None
    return float(v)


@dataclass
class Report:
    """The outcome of :func:`infobound.estimate`. Values are in nats unless named bits.

    ``mi`` is the critic of the step chosen on one part of the held-out rows, read once on the
    other part (no selection bias; or, with ``test_fraction=0``, the mean of the last training
    steps); ``std_err`` its standard error (sampling and optimisation in quadrature, so that
    ``mi - 2 * std_err`` is a lower confidence bound); ``ceiling`` the most the bound can read
    at the read-out's K (InfoNCE: ln K), None for uncapped bounds; ``cross_check`` the
    InfoNCE read-out of the same critic over every pair of the report rows.
    """

    #: The estimate, nats.
    mi: float
    #: Its standard error, nats.
    std_err: float
    #: The most the bound can read (nats), or None.
    ceiling: Optional[float]
    #: The unit of ``mi``, ``std_err``, ``ceiling`` and the curves: always "nats".
    unit: str
    #: The bound's name ("smile", "infonce", ...).
    bound: str
    #: The critic's form ("separable", "concat", ...).
    critic: str
    #: Rows used (train + held out).
    n: int
    #: Rows held out for evaluation.
    n_test: int
    #: Columns of x.
    dim_x: int
    #: Columns of y.
    dim_y: int
    #: Joint pairs a training batch (K).
    batch: int
    #: Training steps taken.
    steps: int
    #: How the held-out rows were evaluated.
    evaluation: str
    #: The marginal transform applied to every column ("rank-gauss", "standardize", "none").
    transform: str
    #: The device that trained the critic (an adapter's name, "CPU fast (f32, N threads)" or
    #: "CPU reference (f64 accumulation)").
    device: str
    #: Why that device (the auto rule or the explicit choice).
    device_reason: str
    #: Wall time of training and evaluation, seconds.
    seconds: float
    #: Training steps a second.
    steps_per_second: float
    #: The training step where the run ran away, or None.
    runaway_step: Optional[int]
    #: Of the held-out rows, the report part's, which ``mi`` is read on.
    n_report: int = 0
    #: How the reported step was chosen, and on which rows it was read.
    selection: str = ""
    #: The step whose critic is reported, or None without held-out rows.
    chosen_step: Optional[int] = None
    #: The sampling part of ``std_err``, nats.
    std_err_sampling: float = float("nan")
    #: The optimisation part of ``std_err``, nats.
    std_err_optimisation: float = 0.0
    #: The InfoNCE cross-check (keys mi, std_err, ceiling, excess, excess_std_err, disagrees;
    #: nats), or None where the critic scores no full matrix.
    cross_check: Optional[Dict[str, Any]] = None
    #: The cross-check in words, or why there is none.
    cross_check_note: str = ""
    #: The seed this estimate ran with (its split, initialisation and draws).
    seed: int = 0
    #: A seed ensemble's spread (``replicas > 1``): keys seeds, estimates, std_errs (nats,
    #: NaN where a seed failed), errors, mean and sd (nats); ``mi`` is then their mean.
    ensemble: Optional[Dict[str, Any]] = None
    #: Where a batched request ran this pair (its batched run and replica), or None.
    batched: Optional[str] = None
    #: Things to know about this estimate (fallbacks, caps, diagnostics with remedies).
    warnings: List[str] = field(default_factory=list)
    #: What the curves say (still rising, fallen from its best, overfitting).
    diagnostics: List[str] = field(default_factory=list)
    #: On a GPU, the kernel geometry each family used and why (empty on the CPU).
    geometry: List[str] = field(default_factory=list)
    #: The critic's gradient L2 norm at every training step (float32).
    grad_norms: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: The bound's value at every training step, nats (float32).
    train_curve: np.ndarray = field(default_factory=lambda: np.zeros(0, np.float32))
    #: Every held-out evaluation, n × 3 float64: step, mi (nats), std_err (nats).
    test_curve: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))

    @property
    def bits(self) -> float:
        """The estimate in bits (``mi / ln 2``)."""
        return self.mi / LN_2

    @property
    def std_err_bits(self) -> float:
        """The standard error in bits."""
        return self.std_err / LN_2

    @classmethod
    def _from_native(cls, d: Dict[str, Any]) -> "Report":
        """The report from the native module's dict of fields."""
        return cls(**d)

    def to_dict(self, bits: bool = False) -> Dict[str, Any]:
        """The fields of the CLI's ``infobound estimate --json``, in its order, with
        non-finite numbers as None; in bits when ``bits`` (as ``--bits``)."""
        s = 1.0 / LN_2 if bits else 1.0
        norms = np.asarray(self.grad_norms, dtype=np.float64)
        finite = norms[~np.isnan(norms)]
        return {
            "mi": _finite_or_none(self.mi * s),
            "std_err": _finite_or_none(self.std_err * s),
            "ceiling": None if self.ceiling is None else _finite_or_none(self.ceiling * s),
            "unit": "bits" if bits else "nats",
            "bound": self.bound,
            "critic": self.critic,
            "n": self.n,
            "n_test": self.n_test,
            "evaluation": self.evaluation,
            "dim_x": self.dim_x,
            "dim_y": self.dim_y,
            "batch": self.batch,
            "steps": self.steps,
            "seconds": _finite_or_none(self.seconds),
            "steps_per_second": _finite_or_none(self.steps_per_second),
            "adapter": self.device,
            # The CLI's fold skips NaN norms; none at all is null.
            "grad_norm_max": _finite_or_none(float(finite.max())) if finite.size else None,
            "grad_norm_final": _finite_or_none(float(norms[-1])) if norms.size else None,
            "runaway_step": self.runaway_step,
            "warnings": list(self.warnings),
            "evaluations": [
                {
                    "step": int(step),
                    "mi": _finite_or_none(mi * s),
                    "std_err": _finite_or_none(se * s),
                }
                for step, mi, se in np.asarray(self.test_curve).reshape(-1, 3)
            ],
            "transform": self.transform,
            "device_reason": self.device_reason,
            "geometry": list(self.geometry),
            "diagnostics": list(self.diagnostics),
            "n_report": self.n_report,
            "selection": self.selection,
            "chosen_step": self.chosen_step,
            "std_err_sampling": _finite_or_none(self.std_err_sampling * s),
            "std_err_optimisation": _finite_or_none(self.std_err_optimisation * s),
            "cross_check": None
            if self.cross_check is None
            else {
                k: (v if isinstance(v, bool) else _finite_or_none(v * s))
                for k, v in self.cross_check.items()
            },
            "cross_check_note": self.cross_check_note,
            "seed": self.seed,
            "ensemble": None
            if self.ensemble is None
            else {
                "seeds": list(self.ensemble["seeds"]),
                "estimates": [_finite_or_none(v * s) for v in self.ensemble["estimates"]],
                "std_errs": [_finite_or_none(v * s) for v in self.ensemble["std_errs"]],
                "errors": list(self.ensemble["errors"]),
                "mean": _finite_or_none(self.ensemble["mean"] * s),
                "sd": _finite_or_none(self.ensemble["sd"] * s),
            },
            "batched": self.batched,
        }

    def __repr__(self) -> str:
        ceiling = "" if self.ceiling is None else f", ceiling={self.ceiling:.4f}"
        return (
            f"Report(mi={self.mi:.4f} ± {self.std_err:.4f} nats ({self.bits:.4f} bits){ceiling}, "
            f"bound={self.bound!r}, critic={self.critic!r}, n={self.n}, "
            f"dims=({self.dim_x}, {self.dim_y}), steps={self.steps}, device={self.device!r}, "
            f"seconds={self.seconds:.2f}, warnings={len(self.warnings)})"
        )

    def __str__(self) -> str:
        lines = [
            f"I(X; Y) = {self.mi:.4f} ± {self.std_err:.4f} nats ({self.bits:.4f} bits)",
            f"  {self.bound} bound, {self.critic} critic, {self.n} rows "
            f"({self.n_test} held out), {self.dim_x} × {self.dim_y} dims",
            f"  {self.steps} steps in {self.seconds:.2f} s ({self.steps_per_second:.0f} steps/s) "
            f"on {self.device}",
        ]
        lines += [f"  warning: {w}" for w in self.warnings]
        return "\n".join(lines)
