"""The same data and settings give the same bits from Python as from the Rust API, read
through the command line's `estimate --json` (the binary cargo built, when present)."""

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

import infobound
from conftest import gaussian

ROOT = Path(__file__).resolve().parents[2]


def _cli():
    """The infobound binary: $INFOBOUND_CLI, else the newer of target/debug and
    target/release (an older one may predate this checkout's JSON fields)."""
    if os.environ.get("INFOBOUND_CLI"):
        return Path(os.environ["INFOBOUND_CLI"])
    built = [ROOT / "target" / p / "infobound" for p in ("debug", "release")]
    built = [p for p in built if p.exists()]
    if not built:
        pytest.skip("no infobound binary built (cargo build)")
    return max(built, key=lambda p: p.stat().st_mtime)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_python_and_cli_agree_bit_for_bit(tmp_path, dtype):
    cli = _cli()
    x, y = (a.astype(dtype) for a in gaussian(n=1500, d=2, seed=5))
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", np.asfortranarray(y))
    settings = dict(bound="infonce", hidden=[16], embed=8, steps=150, batch=64, seed=9)
    out = subprocess.run(
        [
            str(cli), "estimate", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy"),
            "--json", "--device", "cpu", "--bound", "infonce", "--hidden", "16", "--embed", "8",
            "--steps", "150", "--batch", "64", "--seed", "9",
        ],
        capture_output=True, text=True, check=True, timeout=120,
    )
    want = json.loads(out.stdout)
    r = infobound.estimate(x, y, device="cpu", **settings)
    got = r.to_dict()
    assert list(got) == list(want)
    assert got["mi"] == want["mi"] and got["std_err"] == want["std_err"]
    assert got["evaluations"] == want["evaluations"]
    for key in ("n", "n_test", "steps", "batch", "evaluation", "transform", "warnings"):
        assert got[key] == want[key], key


def test_seed_ensembles_agree_with_the_cli(tmp_path):
    cli = _cli()
    x, y = gaussian(n=1200, d=1, seed=6)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y)
    out = subprocess.run(
        [
            str(cli), "estimate", "--x", str(tmp_path / "x.npy"), "--y", str(tmp_path / "y.npy"),
            "--json", "--device", "cpu", "--hidden", "16", "--embed", "8", "--steps", "150",
            "--seed", "2", "--replicas", "3",
        ],
        capture_output=True, text=True, check=True, timeout=120,
    )
    want = json.loads(out.stdout)
    got = infobound.estimate(
        x, y, device="cpu", hidden=[16], embed=8, steps=150, seed=2, replicas=3
    ).to_dict()
    for key in ("mi", "std_err", "seed", "ensemble", "batched", "warnings", "evaluations"):
        assert got[key] == want[key], key


def test_mi_matrix_agrees_with_the_cli(tmp_path):
    cli = _cli()
    x, y = gaussian(n=1000, d=2, seed=8)
    data = np.hstack([x, y[:, :1], np.tanh(y[:, 1:])]).astype(np.float32)
    np.save(tmp_path / "d.npy", data)
    out = subprocess.run(
        [
            str(cli), "mi-matrix", "--x", str(tmp_path / "d.npy"), "--groups", "0-1,2,3",
            "--json", "--device", "cpu", "--hidden", "16", "--embed", "8", "--steps", "150",
            "--batch", "64", "--seed", "4", "--replicas", "2", "--out", str(tmp_path / "out"),
        ],
        capture_output=True, text=True, check=True, timeout=120,
    )
    want = json.loads(out.stdout)
    m = infobound.mi_matrix(
        data, "0-1,2,3", device="cpu", hidden=[16], embed=8, steps=150, batch=64, seed=4,
        replicas=2,
    )
    assert m.to_dict() == want
