"""The paired tests on constructed data: bootstrap CI coverage of a known difference,
McNemar on a constructed contingency table, the fold t-test, and the fast resampled metrics
against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import binomtest, ttest_rel
from sklearn import metrics as skm

from tabpipe.comparison.resampled_metrics import auc_batch, metric_difference
from tabpipe.comparison.significance import fold_ttest, mcnemar, paired_bootstrap_ci
from tabpipe.evaluation.metrics import compute_metrics, predicted_labels, scored


def _scores_from_correctness(y: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """Binary probabilities whose argmax is right exactly where ``correct``."""
    p_true = np.where(correct, 0.9, 0.1)
    scores = np.empty((len(y), 2))
    scores[np.arange(len(y)), y] = p_true
    scores[np.arange(len(y)), 1 - y] = 1 - p_true
    return scores


def test_bootstrap_ci_covers_a_known_accuracy_difference_about_95_percent_of_the_time() -> None:
    """200 simulated test sets where B's true accuracy is 0.08 below A's; the two models'
    errors are correlated (paired). The 95% CI must cover -0.08 in ~95% of them."""
    rng = np.random.default_rng(12345)
    n_rows, true_difference, covered = 400, 0.72 - 0.80, 0
    trials = 200
    for trial in range(trials):
        y = rng.integers(0, 2, n_rows)
        u = rng.random(n_rows)
        v = np.where(rng.random(n_rows) < 0.7, u, rng.random(n_rows))  # uniform, correlated with u
        scores_a = _scores_from_correctness(y, u < 0.80)
        scores_b = _scores_from_correctness(y, v < 0.72)
        a, b = scored("binary", y, scores_a), scored("binary", y, scores_b)
        difference, n_units, unit = metric_difference("accuracy", "binary", a, b)
        ci = paired_bootstrap_ci(difference, n_units, n_resamples=1000, seed=trial)
        covered += ci.low <= true_difference <= ci.high
        assert unit == "row"
    coverage = covered / trials
    # binomial sd at 200 trials is 0.015: accept 0.90..0.99
    assert 0.90 <= coverage <= 0.99, coverage


def test_bootstrap_is_reproducible_and_identical_models_are_not_different() -> None:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 300)
    scores = rng.dirichlet([1, 1], 300)
    other = rng.dirichlet([1, 1], 300)
    diff, n, _ = metric_difference("auc", "binary", scored("binary", y, scores), scored("binary", y, other))
    first, second = paired_bootstrap_ci(diff, n, seed=3), paired_bootstrap_ci(diff, n, seed=3)
    assert first == second
    same, n, _ = metric_difference("auc", "binary", scored("binary", y, scores), scored("binary", y, scores))
    ci = paired_bootstrap_ci(same, n)
    assert (ci.estimate, ci.low, ci.high) == (0.0, 0.0, 0.0) and not ci.excludes_zero()


def test_mcnemar_on_a_constructed_contingency_table() -> None:
    # both right 50, A right/B wrong 15, A wrong/B right 5, both wrong 30
    a_correct = np.array([1] * 50 + [1] * 15 + [0] * 5 + [0] * 30, dtype=bool)
    b_correct = np.array([1] * 50 + [0] * 15 + [1] * 5 + [0] * 30, dtype=bool)
    result = mcnemar(a_correct, b_correct)
    assert result["table"] == {
        "both_right": 50,
        "a_right_b_wrong": 15,
        "a_wrong_b_right": 5,
        "both_wrong": 30,
    }
    # exact: two-sided binomial P(X <= 5 or X >= 15 | n=20, p=1/2) = 2 * 21700 / 2**20
    assert result["p_value"] == pytest.approx(2 * 21700 / 2**20, rel=1e-12)
    assert result["p_value"] == pytest.approx(binomtest(15, 20, 0.5).pvalue)
    # chi2 with continuity correction: (|15 - 5| - 1)^2 / 20 = 4.05
    assert result["chi2_cc"] == pytest.approx(4.05)
    assert result["chi2_cc_p_value"] == pytest.approx(0.04417, abs=1e-5)
    assert mcnemar(a_correct, a_correct)["p_value"] == 1.0


def test_fold_ttest_is_scipy_ttest_rel_of_b_minus_a() -> None:
    a, b = [0.80, 0.82, 0.79, 0.81, 0.80], [0.83, 0.84, 0.80, 0.85, 0.82]
    result = fold_ttest(a, b)
    expected = ttest_rel(b, a)
    assert result["t"] == pytest.approx(expected.statistic) and result["t"] > 0
    assert result["p_value"] == pytest.approx(expected.pvalue)
    assert result["mean_difference"] == pytest.approx(np.mean(np.subtract(b, a)))


@pytest.mark.parametrize(
    ("task", "metric", "threshold"),
    [
        ("binary", "auc", None),
        ("binary", "accuracy", None),
        ("binary", "accuracy", 0.3),
        ("binary", "f1_macro", 0.3),
        ("binary", "pr_auc", None),
        ("binary", "log_loss", None),
        ("binary", "brier", None),
        ("multiclass", "f1_macro", None),
        ("multiclass", "accuracy", None),
        ("regression", "rmse", None),
        ("regression", "mae", None),
        ("regression", "r2", None),
        ("regression", "mape", None),
    ],
)
def test_resampled_metrics_equal_the_evaluation_metrics(
    task: str, metric: str, threshold: float | None
) -> None:
    """Every resample's difference is evaluation.metrics' difference on the resampled rows,
    with the labels the graph outputs (here: a binary threshold of 0.3)."""
    rng = np.random.default_rng(1)
    n = 250
    labels_a = labels_b = None
    if task == "regression":
        y = rng.normal(size=n)
        a, b = y + rng.normal(scale=0.5, size=n), y + rng.normal(scale=0.8, size=n)
    else:
        k = 2 if task == "binary" else 3
        y = rng.integers(0, k, n)
        a, b = rng.dirichlet(np.ones(k), n), rng.dirichlet(np.ones(k), n)
        a[:, 0] = np.round(a[:, 0], 1)  # ties
        a /= a.sum(axis=1, keepdims=True)
        labels_a, labels_b = predicted_labels(a, threshold), predicted_labels(b, threshold)
    rows_a, rows_b = scored(task, y, a, labels_a), scored(task, y, b, labels_b)
    difference, _, unit = metric_difference(metric, task, rows_a, rows_b)
    idx = np.vstack([np.arange(n), rng.integers(0, n, (3, n))])

    def value(scores: np.ndarray, labels: np.ndarray | None, i: np.ndarray) -> float:
        return compute_metrics(task, y[i], scores[i], None if labels is None else labels[i])[metric]

    expected = [value(b, labels_b, i) - value(a, labels_a, i) for i in idx]
    np.testing.assert_allclose(difference(idx), expected, rtol=1e-10, atol=1e-12)
    assert unit == "row"


@pytest.mark.parametrize("metric", ["ndcg@3", "map@5"])
def test_ranking_resamples_queries_and_equals_the_evaluation_metrics(metric: str) -> None:
    rng = np.random.default_rng(4)
    groups = np.repeat(np.arange(40), rng.integers(2, 12, 40))
    y = rng.integers(0, 3, len(groups)).astype(float)
    a, b = rng.normal(size=len(groups)), y + rng.normal(scale=2.0, size=len(groups))
    rows_a, rows_b = scored("ranking", y, a, groups=groups), scored("ranking", y, b, groups=groups)
    difference, n_queries, unit = metric_difference(metric, "ranking", rows_a, rows_b)
    members = rows_a.queries.members
    assert (unit, n_queries) == ("query", len(members))

    def value(scores: np.ndarray, rows: np.ndarray) -> float:
        return compute_metrics("ranking", y[rows], scores[rows], groups=groups[rows], ranking_k=[3, 5])[
            metric
        ]

    everything = np.arange(n_queries)
    whole = value(b, np.arange(len(y))) - value(a, np.arange(len(y)))
    assert difference(everything[None, :])[0] == pytest.approx(whole, abs=1e-12)
    # a resample of queries (with repeats) averages each picked query's own value
    picked = rng.integers(0, n_queries, n_queries)
    expected = np.mean([value(b, members[q]) - value(a, members[q]) for q in picked])
    assert difference(picked[None, :])[0] == pytest.approx(expected, abs=1e-12)


def test_auc_batch_handles_ties_like_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.integers(0, 2, 500)
    scores = np.round(rng.random(500), 1)  # many ties
    assert auc_batch(y, scores, np.arange(500)[None, :])[0] == pytest.approx(skm.roc_auc_score(y, scores))


@pytest.mark.parametrize("metric", ["log_loss", "auc"])
def test_bootstrap_shows_resample_progress_on_a_terminal(monkeypatch, metric: str) -> None:
    import fcntl
    import os
    import pty
    import struct
    import sys
    import termios

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 200)
    a, b = scored("binary", y, rng.dirichlet([1, 1], 200)), scored("binary", y, rng.dirichlet([1, 1], 200))
    difference, n, _ = metric_difference(metric, "binary", a, b)
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))  # 120 columns
    with os.fdopen(follower, "w") as terminal:  # a real terminal: tqdm draws its bar there
        monkeypatch.setattr(sys, "stderr", terminal)
        plain = paired_bootstrap_ci(difference, n, n_resamples=300, seed=0)
        terminal.flush()
        os.set_blocking(leader, False)
        drawn = os.read(leader, 1 << 16).decode(errors="replace")
    os.close(leader)
    assert f"\rbootstrap resamples ({metric}): 0resample [" in drawn and "resample/s]" in drawn, drawn
    # the bar changes nothing: the same CI as without a terminal
    monkeypatch.undo()
    again, n, _ = metric_difference(metric, "binary", a, b)
    assert paired_bootstrap_ci(again, n, n_resamples=300, seed=0) == plain
