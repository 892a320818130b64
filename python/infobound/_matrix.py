"""The MI matrix between column groups: a plain dataclass (it pickles), with the column-group
syntax of ``infobound mi-matrix --groups`` and the checks the library makes of groups."""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np

from ._report import Report, _finite_or_none

LN_2 = math.log(2.0)

#: Column groups as :func:`infobound.mi_matrix` takes them: lists of column indices, or the
#: command line's ``"0-3,4-7,8"``; None is one group a column.
Groups = Union[None, str, Sequence[Sequence[int]]]


def _bad(reason: str) -> ValueError:
    """The library's error for unusable groups."""
    return ValueError(f"invalid input: column groups: {reason}")


def parse_groups(spec: str) -> List[List[int]]:
    """``"0-3,4-7,8"`` (the command line's ``--groups``): comma-separated columns ``N`` and
    inclusive ranges ``A-B``, 0-based, one group each."""
    groups = []
    for part in spec.split(","):
        part = part.strip()
        a, dash, b = (s.strip() for s in part.partition("-"))
        if not a.isdigit() or (dash and (not b.isdigit() or int(b) < int(a))):
            raise _bad(f"{part!r} is not a column (N) or an inclusive range (A-B)")
        groups.append(list(range(int(a), int(b if dash else a) + 1)))
    return groups


def resolve_groups(groups: Groups, each_column: bool, cols: int) -> List[List[int]]:
    """The groups to use for data of ``cols`` columns, checked as the library checks them (at
    least two, none empty, every column in range), with the library's messages."""
    if each_column and groups is not None:
        raise ValueError("invalid input: give groups or each_column=True, not both")
    if groups is None:
        resolved = [[c] for c in range(cols)]
    elif isinstance(groups, str):
        resolved = parse_groups(groups)
    else:
        resolved = []
        for i, g in enumerate(groups):
            if isinstance(g, (str, bytes)) or not hasattr(g, "__iter__"):
                raise TypeError(f"groups[{i}] must be a list of column indices, not {g!r}")
            try:
                resolved.append([operator.index(c) for c in g])
            except TypeError:
                raise TypeError(f"groups[{i}] must hold integer column indices: {g!r}") from None
    if len(resolved) < 2:
        raise _bad(f"need at least two groups, not {len(resolved)}")
    for i, g in enumerate(resolved):
        if not g:
            raise _bad(f"group {i} is empty")
        for c in g:
            if c < 0 or c >= cols:
                raise _bad(
                    f"group {i} names column {c}, but the data have {cols} columns "
                    f"(0 … {cols - 1})"
                )
    return resolved


def label(cols: Sequence[int]) -> str:
    """A group's label, as the command line writes it: runs of columns (``0-3``, ``5``,
    ``7-8+10``)."""
    parts = []
    i = 0
    while i < len(cols):
        j = i
        while j + 1 < len(cols) and cols[j + 1] == cols[j] + 1:
            j += 1
        parts.append(str(cols[i]) if i == j else f"{cols[i]}-{cols[j]}")
        i = j + 1
    return "+".join(parts)


@dataclass
class MiMatrix:
    """The outcome of :func:`infobound.mi_matrix`: Î(group i; group j) in nats for every two
    column groups, one estimate an unordered pair, mirrored.

    ``values[i, j]`` is pair (i, j)'s ``Report.mi`` and ``std_errs[i, j]`` its ``std_err``;
    the diagonal is NaN (no estimate of a group with itself), and so is a pair whose estimate
    failed (``pairs`` says why).
    """

    #: Each group's columns.
    groups: List[List[int]]
    #: g × g float64, nats: mirrored, NaN on the diagonal and for failed pairs.
    values: np.ndarray
    #: Their standard errors, nats (NaN likewise).
    std_errs: np.ndarray
    #: Each unordered pair (i < j) in order, with its Report or why it failed (the library's
    #: one-line message).
    pairs: List[Tuple[Tuple[int, int], Union[Report, str]]]
    #: How the pairs were trained, in words: each batched run (its pair numbers index
    #: ``pairs``), or on Ray each task.
    runs: List[str] = field(default_factory=list)
    #: The unit of ``values`` and ``std_errs``: always "nats".
    unit: str = "nats"

    @property
    def bits(self) -> np.ndarray:
        """``values`` in bits."""
        return self.values / LN_2

    @property
    def labels(self) -> List[str]:
        """Each group's label (``0-3``, ``5``, ``7-8+10``)."""
        return [label(g) for g in self.groups]

    @property
    def failed(self) -> List[Tuple[Tuple[int, int], str]]:
        """The pairs whose estimate failed, with why."""
        return [(ij, r) for ij, r in self.pairs if isinstance(r, str)]

    def report(self, i: int, j: int) -> Report:
        """The Report of groups ``i`` and ``j`` (either order). Raises ``KeyError`` for
        i == j or a group out of range, and :class:`infobound.EstimationError` with the
        pair's message where its estimate failed."""
        key = (min(i, j), max(i, j))
        for ij, r in self.pairs:
            if ij == key:
                if isinstance(r, str):
                    from ._infobound import EstimationError

                    raise EstimationError(f"groups {key[0]} and {key[1]}: {r}")
                return r
        raise KeyError(f"no pair of groups ({i}, {j}) in this matrix")

    def to_dict(self, bits: bool = False) -> Dict[str, Any]:
        """The fields of ``infobound mi-matrix --json`` (mi_matrix.json): non-finite numbers
        (the diagonal, failed pairs) as None; in bits when ``bits``."""
        s = 1.0 / LN_2 if bits else 1.0

        def square(m: np.ndarray) -> List[List[Optional[float]]]:
            return [[_finite_or_none(float(v) * s) for v in row] for row in m]

        return {
            "unit": "bits" if bits else "nats",
            "groups": [list(g) for g in self.groups],
            "labels": self.labels,
            "values": square(self.values),
            "std_errs": square(self.std_errs),
            "pairs": [
                {
                    "i": i,
                    "j": j,
                    "mi": None if isinstance(r, str) else _finite_or_none(r.mi * s),
                    "std_err": None if isinstance(r, str) else _finite_or_none(r.std_err * s),
                    "error": r if isinstance(r, str) else None,
                    "batched": None if isinstance(r, str) else r.batched,
                    "warnings": [] if isinstance(r, str) else list(r.warnings),
                }
                for (i, j), r in self.pairs
            ],
            "runs": list(self.runs),
        }

    def __str__(self) -> str:
        """The matrix as aligned text, a row a group (as ``infobound mi-matrix`` prints it)."""
        labels = self.labels
        width = max([len(lb) for lb in labels] + [8])
        lines = [f"{self.unit:>{width}}" + "".join(f" {lb:>{width}}" for lb in labels)]
        for lb, row in zip(labels, self.values):
            cells = "".join(
                f" {v:>{width}.4f}" if math.isfinite(v) else f" {'·':>{width}}" for v in row
            )
            lines.append(f"{lb:>{width}}{cells}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        g = len(self.groups)
        return (
            f"MiMatrix({g} groups, {len(self.pairs)} pairs ({len(self.failed)} failed), "
            f"{len(self.runs)} runs, unit={self.unit!r})"
        )


def assemble(
    groups: List[List[int]],
    outcomes: Sequence[Tuple[Tuple[int, int], Union[Report, BaseException, str]]],
    runs: List[str],
) -> MiMatrix:
    """The matrix of the pairs' outcomes (a Report, or an exception or message for a failed
    pair), mirrored, as the library assembles it."""
    g = len(groups)
    values = np.full((g, g), np.nan)
    std_errs = np.full((g, g), np.nan)
    pairs: List[Tuple[Tuple[int, int], Union[Report, str]]] = []
    for (i, j), r in outcomes:
        if isinstance(r, Report):
            values[i, j] = values[j, i] = r.mi
            std_errs[i, j] = std_errs[j, i] = r.std_err
            pairs.append(((i, j), r))
        else:
            pairs.append(((i, j), str(r)))
    return MiMatrix(groups=groups, values=values, std_errs=std_errs, pairs=pairs, runs=runs)
