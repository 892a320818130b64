"""Progress of a running estimate: a bar (tqdm when installed, else one line on stderr
rewritten in place) or the caller's callable."""

from __future__ import annotations

import sys
from typing import Any, Callable, NamedTuple, Optional, Tuple

#: What the native module calls: (step, total steps, steps per second, latest held-out MI in
#: nats or None).
NativeCallback = Callable[[int, int, float, Optional[float]], None]


class _Bar:
    """A progress bar of training steps with the latest held-out estimate."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm  # optional extra
        except ImportError:
            self._tqdm: Any = None
        else:
            self._tqdm = tqdm(total=None, unit="step", desc="infobound", leave=False)
        self._line = False

    def update(self, step: int, total: int, rate: float, mi: Optional[float]) -> None:
        """Shows ``step`` of ``total`` at ``rate`` steps/s with ``mi`` (nats)."""
        note = "" if mi is None else f"held-out {mi:.4f} nats"
        if self._tqdm is not None:
            self._tqdm.total = total
            self._tqdm.n = step
            self._tqdm.set_postfix_str(note, refresh=False)
            self._tqdm.refresh()
            return
        sys.stderr.write(f"\rinfobound: step {step}/{total}  {rate:.0f} steps/s  {note}   ")
        sys.stderr.flush()
        self._line = True

    def close(self) -> None:
        """Removes the bar (tqdm) or ends the line (stderr)."""
        if self._tqdm is not None:
            self._tqdm.close()
        elif self._line:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _nothing() -> None:
    """Nothing to close."""


def callback(progress: Any) -> Tuple[Optional[NativeCallback], Callable[[], None]]:
    """The native callback for ``estimate(progress=...)`` and what to call when the run ends.

    ``True`` draws a bar; a callable receives ``(step, steps_per_second, latest_mi)`` with
    ``latest_mi`` the latest held-out estimate in nats (None until the first evaluation).
    """
    if progress is None or progress is False:
        return None, _nothing
    if progress is True:
        bar = _Bar()
        return bar.update, bar.close
    if callable(progress):
        user = progress

        def relay(step: int, total: int, rate: float, mi: Optional[float]) -> None:
            user(step, rate, mi)

        return relay, _nothing
    raise TypeError(
        f"progress must be None, True or a callable(step, steps_per_second, latest_mi), "
        f"not {type(progress).__name__}"
    )


class BatchProgress(NamedTuple):
    """Where a batched request (:func:`infobound.estimate_many`, :func:`infobound.mi_matrix`)
    stands, after every block of training steps of one of its batched runs."""

    #: The batched run training now (0-based; see :func:`infobound.plan_many`).
    run: int
    #: Batched runs in the request.
    runs: int
    #: Training steps taken in this run.
    step: int
    #: Most training steps (a run may stop earlier).
    total: int
    #: Training steps a second in this run (every replica takes each step).
    steps_per_second: float
    #: Replicas this run trains (pairs × seeds).
    replicas: int
    #: Of those, the ones still training (the others finished, stopped or failed).
    running: int
    #: The latest held-out estimate of a running replica, nats, or None.
    latest_mi: Optional[float]


#: What the native module calls for a batched request: BatchProgress's fields in order.
NativeBatchCallback = Callable[[int, int, int, int, float, int, int, Optional[float]], None]


class _BatchBar:
    """A progress bar of a batched request: the run, its steps, the replicas still running
    and the time left in the run."""

    def __init__(self) -> None:
        try:
            from tqdm.auto import tqdm  # optional extra
        except ImportError:
            self._tqdm: Any = None
        else:
            self._tqdm = tqdm(total=None, unit="step", desc="infobound", leave=False)
        self._line = False

    def update(self, *fields: Any) -> None:
        """Shows one :class:`BatchProgress`."""
        p = BatchProgress(*fields)
        running = f"{p.running} of {p.replicas} replicas running"
        if self._tqdm is not None:
            self._tqdm.set_description_str(f"infobound run {p.run + 1}/{p.runs}", refresh=False)
            self._tqdm.total = p.total
            self._tqdm.n = p.step
            self._tqdm.set_postfix_str(running, refresh=False)
            self._tqdm.refresh()
            return
        left = (p.total - p.step) / p.steps_per_second if p.steps_per_second > 0 else 0.0
        sys.stderr.write(
            f"\rinfobound: run {p.run + 1}/{p.runs}  step {p.step}/{p.total}  {running}  "
            f"{p.steps_per_second:.0f} steps/s  ETA {left:.0f} s   "
        )
        sys.stderr.flush()
        self._line = True

    def close(self) -> None:
        """Removes the bar (tqdm) or ends the line (stderr)."""
        if self._tqdm is not None:
            self._tqdm.close()
        elif self._line:
            sys.stderr.write("\n")
            sys.stderr.flush()


def batch_callback(progress: Any) -> Tuple[Optional[NativeBatchCallback], Callable[[], None]]:
    """The native callback for a batched request's ``progress=`` and what to call when it
    ends: ``True`` draws a bar; a callable receives one :class:`BatchProgress`."""
    if progress is None or progress is False:
        return None, _nothing
    if progress is True:
        bar = _BatchBar()
        return bar.update, bar.close
    if callable(progress):
        user = progress

        def relay(*fields: Any) -> None:
            user(BatchProgress(*fields))

        return relay, _nothing
    raise TypeError(
        f"progress must be None, True or a callable(BatchProgress), not {type(progress).__name__}"
    )
