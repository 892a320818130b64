"""Progress: the callable's arguments, and the stderr line when tqdm is absent."""

import sys

import infobound
from conftest import FAST


def test_callable_gets_step_rate_and_latest_estimate(xy):
    seen = []
    r = infobound.estimate(*xy, progress=lambda *a: seen.append(a), **FAST)
    assert [s for s, _, _ in seen] == [100, 200]
    assert all(rate > 0 for _, rate, _ in seen)
    assert seen[-1][2] == r.test_curve[-1, 1]


def test_latest_is_none_without_held_out_rows(xy):
    seen = []
    infobound.estimate(*xy, test_fraction=0.0, progress=lambda *a: seen.append(a), **FAST)
    assert seen and all(mi is None for _, _, mi in seen)


def test_true_without_tqdm_writes_a_line_on_stderr(xy, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)  # import fails: no tqdm
    infobound.estimate(*xy, progress=True, **FAST)
    err = capsys.readouterr().err
    assert "step 200/200" in err and "held-out" in err and err.endswith("\n")


def test_true_with_tqdm(xy):
    import pytest

    pytest.importorskip("tqdm")
    assert infobound.estimate(*xy, progress=True, **FAST).steps == 200


def test_bad_progress_is_a_type_error(xy):
    import pytest

    with pytest.raises(TypeError, match="progress"):
        infobound.estimate(*xy, progress="yes", **FAST)
