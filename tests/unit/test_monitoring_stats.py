"""The drift statistics, severities and trigger rules on small hand-computed inputs."""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import wait_for_skip
from tabpipe.export.documents import CategoricalProfile, NumericProfile
from tabpipe.monitoring import drift, trigger
from tabpipe.monitoring.compare import Thresholds, compare_categorical, compare_numeric, judge
from tabpipe.monitoring.current_data import parse_window


def test_psi_and_kl_equal_the_hand_computed_values() -> None:
    # PSI = (0.25-0.5) ln(0.25/0.5) + (0.75-0.5) ln(0.75/0.5) = 0.25 ln 2 + 0.25 ln 1.5
    assert drift.psi([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.2746530722, abs=1e-9)
    # KL(ref||cur) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75)
    assert drift.kl_divergence([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.1438410362, abs=1e-9)
    # counts are normalised first: the same distributions as counts
    assert drift.psi([10, 10], [1, 3]) == pytest.approx(0.2746530722, abs=1e-9)
    assert drift.psi([0.2, 0.3, 0.5], [0.2, 0.3, 0.5]) == 0.0


def test_empty_bins_are_smoothed_with_epsilon() -> None:
    # reference bin 2 is empty: raised to 1e-4, then both sides renormalised
    r = np.array([1.0, 1e-4]) / 1.0001
    c = np.array([0.5, 0.5])
    expected_psi = (c[0] - r[0]) * math.log(c[0] / r[0]) + (c[1] - r[1]) * math.log(c[1] / r[1])
    expected_kl = r[0] * math.log(r[0] / c[0]) + r[1] * math.log(r[1] / c[1])
    assert drift.psi([1.0, 0.0], [0.5, 0.5], epsilon=1e-4) == pytest.approx(expected_psi, rel=1e-12)
    assert drift.psi([1.0, 0.0], [0.5, 0.5], epsilon=1e-4) == pytest.approx(4.6042, abs=1e-4)
    assert drift.kl_divergence([1.0, 0.0], [0.5, 0.5], epsilon=1e-4) == pytest.approx(expected_kl, rel=1e-12)
    assert math.isfinite(drift.psi([0.0, 1.0], [1.0, 0.0]))


def test_numeric_bins_follow_the_reference_edges_and_count_missing_apart() -> None:
    # bins (-inf, 1], (1, 2], (2, inf); NaN is counted as missing, not in the last bin
    counts, missing = drift.numeric_counts(np.array([0.0, 1.0, 1.5, 2.0, 3.0, np.nan]), np.array([1.0, 2.0]))
    assert counts.tolist() == [2, 2, 1] and missing == 1
    counts, missing = drift.numeric_counts(np.array([np.nan, np.nan]), np.array([1.0]))
    assert counts.tolist() == [0, 0] and missing == 2


def test_both_binning_paths_agree_on_ties_and_missing_values(monkeypatch) -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 40, 5000).astype(np.float64)  # many values equal an edge
    values[rng.random(5000) < 0.1] = np.nan
    edges = np.unique(np.quantile(values[~np.isnan(values)], np.linspace(0, 1, 11)[1:-1]))
    passes = drift.numeric_counts(values, edges)
    monkeypatch.setattr(drift, "MAX_PASS_EDGES", 0)
    searched = drift.numeric_counts(values, edges)
    expected = np.histogram(
        -values[~np.isnan(values)], bins=np.concatenate([[-np.inf], -edges[::-1], [np.inf]])
    )
    assert passes[0].tolist() == searched[0].tolist() == expected[0][::-1].tolist()
    assert passes[1] == searched[1] == int(np.isnan(values).sum())


def test_categories_outside_the_reference_go_to_the_tail_bucket_by_name() -> None:
    values = pd.Series(["a", "a", "c", np.nan, "c", "d"], dtype=object)
    counts, missing, unlisted = drift.category_counts(values, ["a", "b"])
    assert counts.tolist() == [2, 0, 3] and missing == 1 and unlisted == {"c": 2, "d": 1}


def test_bh_adjustment_keeps_features_without_a_p_value() -> None:
    adjusted = drift.adjust_p_values([0.01, None, 0.04, 0.03], "bh")
    # BH: sorted 0.01, 0.03, 0.04 (m=3) -> 0.03, 0.04, 0.04
    assert adjusted[1] is None
    assert [adjusted[0], adjusted[3], adjusted[2]] == pytest.approx([0.03, 0.04, 0.04])
    assert drift.adjust_p_values([0.01, None], "none") == [0.01, None]


def _numeric_entry(rng: np.random.Generator) -> NumericProfile:
    reference = rng.normal(0, 1, 5000)
    edges = np.quantile(reference, np.linspace(0, 1, 11)[1:-1])
    counts = np.bincount(np.searchsorted(edges, reference), minlength=len(edges) + 1)
    return NumericProfile(
        edges=edges.tolist(), shares=(counts / counts.sum()).tolist(), missing_rate=0.0, count=5000
    )


def test_severity_from_psi_missing_rate_and_min_samples() -> None:
    rng = np.random.default_rng(0)
    entry = _numeric_entry(rng)
    t = Thresholds(min_samples=100)
    fresh = compare_numeric("x", entry, rng.normal(0, 1, 4000), t)
    shifted = compare_numeric("x", entry, rng.normal(1.0, 1, 4000), t)
    few = compare_numeric("x", entry, rng.normal(1.0, 1, 60), t)
    holes = rng.normal(0, 1, 4000)
    holes[:1200] = np.nan
    gaps = compare_numeric("x", entry, holes, t)
    judge([fresh, shifted, few, gaps], t)
    assert fresh.severity == "ok" and fresh.psi < 0.1
    assert shifted.severity == "alert" and shifted.psi > 0.25
    # 60 values of a shifted feature: not enough to judge, never a false alert
    assert few.severity == "insufficient_data" and few.psi > 0.25
    assert gaps.severity == "alert" and gaps.psi < 0.1
    assert gaps.missing_change == pytest.approx(0.3) and "missing rate" in gaps.reasons[0]


def test_a_new_dominant_category_alerts_and_is_named() -> None:
    entry = CategoricalProfile(frequencies={"a": 0.6, "b": 0.4}, missing_rate=0.0, count=1000)
    values = pd.Series(["z"] * 700 + ["a"] * 200 + ["b"] * 100, dtype=object)
    t = Thresholds()
    (result,) = judge([compare_categorical("c", entry, values, t)], t)
    assert result.severity == "alert" and result.unlisted_categories == {"z": 700}
    assert "unseen category 'z' in 70% of rows" in result.reasons


def test_cadence_is_due_after_the_training_date_or_the_last_trigger() -> None:
    trained = datetime(2026, 1, 1, tzinfo=timezone.utc)
    day = timedelta(days=1)
    assert trigger.cadence_due(trained, None, 7, trained + 6 * day) == (False, trained + 7 * day)
    assert trigger.cadence_due(trained, None, 7, trained + 7 * day)[0]
    # a retrain triggered on day 8 moves the next one to day 15
    assert not trigger.cadence_due(trained, trained + 8 * day, 7, trained + 14 * day)[0]
    assert trigger.cadence_due(trained, trained + 8 * day, 7, trained + 15 * day)[0]


def test_trigger_lock_and_cooldown_record_every_decision(tmp_path: Path) -> None:
    marker = tmp_path / "ran.txt"
    script = tmp_path / "retrain.py"
    # the command runs until the other thread has found the lock held (at most 60 s)
    script.write_text(f"open({str(marker)!r}, 'a').write('x')\n" + wait_for_skip(tmp_path))
    command = f"{__import__('sys').executable} {script}"
    outcomes: list[dict] = []
    threads = [
        threading.Thread(target=lambda: outcomes.append(trigger.fire(tmp_path, ["alert"], command, 24, {})))
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    later = trigger.fire(tmp_path, ["alert"], command, 24, {})
    assert marker.read_text() == "x"
    assert sorted(o.action for o in outcomes) == ["ran", "skipped"]
    assert later.action == "skipped" and "cooldown" in later.detail
    ran = [e for e in trigger.history(tmp_path) if e.action == "ran"]
    assert len(ran) == 1 and ran[0].returncode == 0 and len(trigger.history(tmp_path)) == 3
    failed = trigger.fire(tmp_path / "other", ["alert"], "no-such-command-xyz", 0, {})
    assert failed.action == "ran" and failed.returncode is None and "could not start" in failed.error


@pytest.mark.parametrize(
    ("window", "expected"),
    [(None, None), ("1000", 1000), (500, 500), ("24h", timedelta(hours=24)), ("30m", timedelta(minutes=30))],
)
def test_window_parsing(window, expected) -> None:
    assert parse_window(window) == expected


def test_bad_window_is_one_line() -> None:
    from tabpipe.errors import ConfigError

    with pytest.raises(ConfigError, match=r"window='yesterday': use a number of records"):
        parse_window("yesterday")


def test_the_monitor_config_is_the_one_declaration_of_the_thresholds() -> None:
    """``judge`` reads the composed monitor config as it is: no second declaration to copy into."""
    from tabpipe.cli.groups import compose_app_config
    from tabpipe.config.app_schema import DriftThresholds, MonitorConfig
    from tabpipe.monitoring.compare import FeatureDrift, thresholds_record

    assert issubclass(MonitorConfig, DriftThresholds) and Thresholds is DriftThresholds
    cfg = compose_app_config(
        "monitor", ["bundle=x", "current=y.csv", "severity.psi_warn=0.5", "severity.psi_alert=0.9"]
    )
    drifted = FeatureDrift("x", "numeric", 500, 500, psi=0.2, missing_change=0.0)
    (judged,) = judge([drifted], cfg)
    assert judged.severity == "ok"  # 0.2 < the configured psi_warn, though above the default 0.1
    (judged,) = judge([FeatureDrift("x", "numeric", 500, 500, psi=0.2, missing_change=0.0)], Thresholds())
    assert judged.severity == "warn"
    assert thresholds_record(cfg) | {"psi_warn": 0.1, "psi_alert": 0.25} == thresholds_record(Thresholds())
