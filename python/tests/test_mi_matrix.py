"""mi_matrix: a g × g matrix of the pairwise MI between column groups, mirrored, with a NaN
diagonal, each entry its pair's solo estimate; the group syntax and its errors."""

import json
import pickle

import numpy as np
import pytest

import infobound
from conftest import FAST


@pytest.fixture(scope="module")
def data():
    """Five columns: 0-1 correlated with 2, 3 a function of 0, 4 independent noise."""
    rng = np.random.default_rng(11)
    a = rng.normal(size=(1200, 2))
    b = a.sum(axis=1, keepdims=True) / 2 + 0.5 * rng.normal(size=(1200, 1))
    c = np.tanh(a[:, :1]) + 0.3 * rng.normal(size=(1200, 1))
    d = rng.normal(size=(1200, 1))
    return np.hstack([a, b, c, d])


def test_the_matrix_is_mirrored_with_a_nan_diagonal_and_solo_entries(data):
    groups = [[0, 1], [2], [3], [4]]
    m = infobound.mi_matrix(data, groups, **FAST)
    assert isinstance(m, infobound.MiMatrix) and m.unit == "nats"
    assert m.groups == groups and m.values.shape == m.std_errs.shape == (4, 4)
    assert np.isnan(np.diag(m.values)).all() and np.isnan(np.diag(m.std_errs)).all()
    off = ~np.eye(4, dtype=bool)
    assert np.isfinite(m.values[off]).all()
    assert np.array_equal(m.values, m.values.T, equal_nan=True)
    assert [ij for ij, _ in m.pairs] == [(0, 1), (0, 2), (0, 3), (1, 2), (1, 3), (2, 3)]
    for (i, j), r in m.pairs:
        solo = infobound.estimate(data[:, groups[i]], data[:, groups[j]], **FAST)
        assert m.values[i, j] == solo.mi == r.mi and m.std_errs[j, i] == solo.std_err
        assert m.report(j, i) is r
    # The dependent pairs read far above the independent column's.
    assert m.values[0, 1] > 0.3 and abs(m.values[0, 3]) < 0.1
    # Widths 2 × 1 and 1 × 1 are separate batched runs.
    assert m.runs == [
        "pairs 0, 1, 2 (2 × 1 columns, 1200 rows): 3 replicas",
        "pairs 3, 4, 5 (1 × 1 columns, 1200 rows): 3 replicas",
    ]
    assert m.failed == [] and m.labels == ["0-1", "2", "3", "4"]
    assert np.array_equal(m.bits, m.values / np.log(2), equal_nan=True)


def test_group_spellings(data):
    x = data[:, :3]
    each = infobound.mi_matrix(x, **FAST)
    assert each.groups == [[0], [1], [2]]
    assert infobound.mi_matrix(x, each_column=True, **FAST).groups == each.groups
    spelled = infobound.mi_matrix(data, "0-1, 2,3-4", **FAST)
    assert spelled.groups == [[0, 1], [2], [3, 4]]
    listed = infobound.mi_matrix(data, [[0, 1], [2], np.array([3, 4])], **FAST)
    assert np.array_equal(listed.values, spelled.values, equal_nan=True)


@pytest.mark.parametrize(
    "groups, kind, message",
    [
        ([[0, 1, 2, 3, 4]], ValueError, "need at least two groups, not 1"),
        ([[0], []], ValueError, "group 1 is empty"),
        ([[0], [5]], ValueError, r"group 1 names column 5, but the data have 5 columns \(0 … 4\)"),
        ([[0], [-1]], ValueError, "group 1 names column -1"),
        ("0-1,x", ValueError, "'x' is not a column"),
        ("3-1,4", ValueError, "'3-1' is not a column"),
        ([[0], [1.5]], TypeError, "integer column indices"),
        ([0, 1], TypeError, "must be a list of column indices"),
    ],
)
def test_bad_groups_are_refused_with_the_librarys_words(data, groups, kind, message):
    with pytest.raises(kind, match=message):
        infobound.mi_matrix(data, groups, **FAST)


def test_groups_and_each_column_together_are_refused(data):
    with pytest.raises(ValueError, match="not both"):
        infobound.mi_matrix(data, [[0], [1]], each_column=True, **FAST)


def test_a_failing_pair_is_nan_with_why_and_a_warning(data):
    x = data[:, :3].copy()
    x[7, 2] = np.nan
    with pytest.warns(RuntimeWarning, match="2 of 3 pairs failed"):
        m = infobound.mi_matrix(x, **FAST)
    assert np.isfinite(m.values[0, 1]) and np.isnan(m.values[0, 2]) and np.isnan(m.values[2, 1])
    assert [ij for ij, _ in m.failed] == [(0, 2), (1, 2)]
    assert "invalid input" in m.failed[0][1] and "row 7" in m.failed[0][1]
    with pytest.raises(infobound.EstimationError, match="groups 0 and 2"):
        m.report(2, 0)
    with pytest.raises(KeyError):
        m.report(1, 1)


def test_to_dict_str_and_pickle(data):
    m = infobound.mi_matrix(data[:, :3], replicas=2, **FAST)
    d = m.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["unit"] == "nats" and d["labels"] == ["0", "1", "2"]
    assert d["values"][0][0] is None and d["values"][0][1] == m.values[0, 1]
    assert d["pairs"][0]["i"] == 0 and d["pairs"][0]["j"] == 1 and d["pairs"][0]["error"] is None
    assert m.to_dict(bits=True)["values"][1][0] == pytest.approx(m.values[1, 0] / np.log(2))
    assert m.report(0, 1).ensemble["seeds"] == [0, 1]
    text = str(m).splitlines()
    assert text[0].split() == ["nats", "0", "1", "2"] and "·" in text[1]
    assert "3 groups" in repr(m)
    back = pickle.loads(pickle.dumps(m))
    assert np.array_equal(back.values, m.values, equal_nan=True)


def test_progress_counts_the_matrix_runs(data):
    seen = []
    infobound.mi_matrix(data, [[0, 1], [2], [3]], progress=seen.append, **FAST)
    assert {p.runs for p in seen} == {2} and {p.run for p in seen} == {0, 1}
