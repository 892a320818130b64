"""Ctrl-C: a SIGINT sent to a process in the middle of a long estimate raises
KeyboardInterrupt within about a second, and the next estimate runs normally."""

import os
import signal
import subprocess
import sys
import time

import pytest

SCRIPT = r"""
import sys, time
import numpy as np, infobound
rng = np.random.default_rng(0)
x = rng.normal(size=(20000, 4)); y = x + rng.normal(size=(20000, 4))
print("started", flush=True)
try:
    CALL
except KeyboardInterrupt:
    print("interrupted", time.monotonic(), flush=True)
small = infobound.estimate(x[:2000], y[:2000], device="cpu", hidden=[16], steps=100)
print("after", small.steps, flush=True)
"""


#: The long runs interrupted: one estimate, a batched request of two runs, an MI matrix.
CALLS = {
    "estimate": 'infobound.estimate(x, y, device="cpu", hidden=[64, 64], steps=10**6)',
    "estimate_many": (
        'infobound.estimate_many([(x, y), (y, x), (x[:, :2], y)], device="cpu", '
        "hidden=[64, 64], steps=10**6)"
    ),
    "mi_matrix": 'infobound.mi_matrix(x, device="cpu", hidden=[64, 64], steps=10**6)',
}


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT is POSIX")
@pytest.mark.parametrize("call", list(CALLS))
def test_sigint_raises_keyboard_interrupt_within_a_second(call):
    p = subprocess.Popen(
        [sys.executable, "-c", SCRIPT.replace("CALL", CALLS[call])],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert p.stdout.readline().strip() == "started"
        time.sleep(2.0)  # well into training
        sent = time.monotonic()
        os.kill(p.pid, signal.SIGINT)
        line = p.stdout.readline().split()
        assert line and line[0] == "interrupted", p.stderr.read()
        assert float(line[1]) - sent < 3.0
        assert p.stdout.readline().strip() == "after 100"
        assert p.wait(timeout=60) == 0
    finally:
        if p.poll() is None:
            p.kill()
