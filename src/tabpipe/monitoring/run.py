"""``tabpipe monitor``: compare the current data with a bundle's reference profile, write
``drift.json`` + ``report.md`` + plots, and fire the retraining trigger when due."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
from omegaconf import DictConfig

from tabpipe.config.app_schema import MonitorConfig
from tabpipe.config.project import output_root
from tabpipe.config.typed import to_typed
from tabpipe.errors import ConfigError
from tabpipe.export.bundle import Bundle, load_bundle
from tabpipe.export.documents import CategoricalProfile, ProfileDocument
from tabpipe.export.profile import as_numbers
from tabpipe.export.registry import Registry
from tabpipe.monitoring import trigger
from tabpipe.monitoring.compare import (
    FeatureDrift,
    Thresholds,
    add_chi2,
    add_ks,
    compare_categorical,
    compare_numeric,
    judge,
    rank,
    thresholds_record,
)
from tabpipe.monitoring.current_data import CurrentData, frame_current, prediction_columns, read_current
from tabpipe.monitoring.document import BundleSummary, Cadence, CurrentSummary, DriftDocument, TriggerOutcome
from tabpipe.monitoring.predictions import compare_predictions, score
from tabpipe.monitoring.report import write_report
from tabpipe.monitoring.schema_drift import SchemaDrift, coerce_current


@dataclass
class MonitorResult:
    document: DriftDocument
    directory: Path
    alert: bool


def bundle_identity(bundle: Bundle) -> tuple[str, str]:
    return bundle.name, bundle.version


def compare_features(
    profile: ProfileDocument, coerced: pd.DataFrame, types: dict[str, str], t: Thresholds, timings: dict
) -> list[FeatureDrift]:
    """Bin every present feature on its reference bins (timed as ``binning_s``), then run the
    KS / chi-square tests (``tests_s``). ``binning_cpu_s`` is the binning's CPU time: on one
    thread, the per-core cost whatever else the machine runs."""
    started, cpu = time.perf_counter(), time.process_time()
    pending = []
    for name in coerced.columns:
        entry = profile.features.get(name)
        if entry is None:
            continue
        if isinstance(entry, CategoricalProfile):
            pending.append((compare_categorical(name, entry, coerced[name], t), entry, None))
        else:
            values = as_numbers(coerced[name], types[name]).to_numpy(dtype=np.float64, na_value=np.nan)
            pending.append((compare_numeric(name, entry, values, t), entry, values))
    timings["binning_s"] = time.perf_counter() - started
    timings["binning_cpu_s"] = time.process_time() - cpu
    started = time.perf_counter()
    for result, entry, values in pending:
        if values is None:
            add_chi2(result, t)
        else:
            add_ks(result, entry, values, t)
    timings["tests_s"] = time.perf_counter() - started
    return [result for result, _, _ in pending]


def _schema_results(
    schema: SchemaDrift, results: list[FeatureDrift], types: dict[str, str]
) -> list[FeatureDrift]:
    """Schema drift as alerting rows of the table, next to the compared features."""
    for result in results:
        if result.name in schema.type_changed:
            result.severity = "alert"
            result.reasons.insert(0, f"type changed: {schema.type_changed[result.name]}")
    missing = [
        FeatureDrift(name, types[name], 0, 0, severity="alert", reasons=["missing from the current data"])
        for name in schema.missing
    ]
    return missing + results


def _predictions(
    cfg: MonitorConfig,
    bundle: Bundle,
    current: CurrentData,
    coerced: pd.DataFrame,
    schema: SchemaDrift,
    timings: dict,
) -> tuple[pd.DataFrame | None, str]:
    if current.predictions is not None:
        return current.predictions, "log" if current.serving is not None else "file"
    types = bundle.schema.input_types
    if not cfg.score or schema.missing or set(current.redacted) & set(types):
        return None, "none"  # the graph needs every input
    started = time.perf_counter()
    frame = score(
        bundle.model_path,
        coerced,
        types,
        bundle.schema.task,
        bundle.schema.class_list,
        list(cfg.providers),
    )
    timings["score_s"] = time.perf_counter() - started
    return frame, "scored"


def _trigger(
    cfg: MonitorConfig, bundle: Bundle, alert: bool, state_dir: Path, context: dict
) -> TriggerOutcome | None:
    reasons, cadence = [], None
    if alert:
        reasons.append("alert")
    if cfg.schedule and cfg.cadence_days is not None:
        trained_at = trigger.parse_time(bundle.metadata.started_at)
        due, due_at = trigger.cadence_due(
            trained_at, trigger.last_run(state_dir), cfg.cadence_days, trigger.utc_now()
        )
        cadence = Cadence(due=due, due_at=due_at.isoformat(), trained_at=trained_at.isoformat())
        if due:
            reasons.append("cadence")
    if not reasons:
        return TriggerOutcome(action="none", cadence=cadence) if cadence else None
    outcome = trigger.fire(state_dir, reasons, cfg.on_alert, cfg.cooldown_hours, context)
    outcome.cadence = cadence
    return outcome


@dataclass
class _Drift:
    """What the current data showed: the rows read (None on a schedule-only check), the
    ranked feature rows, the schema drift, and where the predictions came from."""

    current: CurrentData | None
    results: list[FeatureDrift]
    schema: SchemaDrift
    source: str


def _report_paths(cfg: MonitorConfig, name: str) -> tuple[Path, Path]:
    """(state directory, report directory): the report goes in a timestamped folder of the
    state directory unless ``output_dir`` is given."""
    stamp = datetime.now().astimezone().strftime("%Y%m%dT%H%M%S%f")
    # by default under the project's root (README "Your own project"), not the working directory
    state_dir = Path(cfg.state_dir) if cfg.state_dir else output_root() / "monitoring" / name
    directory = Path(cfg.output_dir) if cfg.output_dir else state_dir / stamp
    return state_dir, directory


def _feature_drift(
    cfg: MonitorConfig, bundle: Bundle, current: CurrentData, types: dict[str, str], timings: dict
) -> tuple[list[FeatureDrift], SchemaDrift, str]:
    """Coerce the current rows, compare every feature (and the predictions) with the
    reference, judge and rank them, with the schema drift as alerting rows."""
    t: Thresholds = cfg  # the monitor's config carries the thresholds (DriftThresholds)
    profile = bundle.profile
    # redacted fields (hashed or dropped by the server) are reported, never compared
    types = {k: v for k, v in types.items() if k not in current.redacted}
    ignore = [
        *current.redacted,
        *bundle.schema.id_columns,
        *prediction_columns(current.frame, set(types)),
        *cfg.exclude,
    ]
    coerce_started = time.perf_counter()
    coerced, schema = coerce_current(current.frame, types, profile.features, ignore)
    timings["coerce_s"] = time.perf_counter() - coerce_started
    results = compare_features(profile, coerced, types, t, timings)
    predictions, source = _predictions(cfg, bundle, current, coerced, schema, timings)
    if predictions is not None and profile.prediction is not None:
        results += compare_predictions(
            profile.prediction, predictions, bundle.schema.task, bundle.schema.class_list, t
        )
    return _schema_results(schema, rank(judge(results, t)), types), schema, source


def _drift(
    cfg: MonitorConfig,
    bundle: Bundle,
    types: dict[str, str],
    timings: dict,
    started: float,
    frame: pd.DataFrame | None = None,
) -> _Drift:
    """Read ``current`` (or take ``frame``, rows the caller holds) and compare it; without
    either, only a schedule check (else one ConfigError line)."""
    if frame is not None:
        current = frame_current(frame, cfg.window, set(types))
        timings["read_s"] = time.perf_counter() - started
        return _Drift(current, *_feature_drift(cfg, bundle, current, types, timings))
    if cfg.current is None:
        if not cfg.schedule:
            raise ConfigError(
                "current: required (pass current=<csv|parquet|jsonl>); only schedule=true may omit it"
            )
        return _Drift(None, [], SchemaDrift(), "none")
    version = bundle_identity(bundle)[1]
    current = read_current(
        Path(cfg.current), cfg.window, set(types), version if version != "unregistered" else None
    )
    timings["read_s"] = time.perf_counter() - started
    return _Drift(current, *_feature_drift(cfg, bundle, current, types, timings))


def _drift_document(
    cfg: MonitorConfig,
    bundle: Bundle,
    drift: _Drift,
    counts: dict[str, int],
    alert: bool,
    outcome: TriggerOutcome | None,
    timings: dict[str, float],
) -> DriftDocument:
    name, version = bundle_identity(bundle)
    current = drift.current
    return DriftDocument(
        generated_at=trigger.utc_now().isoformat(),
        status="alert" if alert else ("warn" if counts["warn"] else "ok"),
        counts=counts,
        bundle=BundleSummary(ref=cfg.bundle, name=name, version=version, path=str(bundle.path)),
        current=CurrentSummary(
            source=cfg.current or (current.source if current else "none (schedule check only)"),
            window=current.window if current else None,
            rows=len(current.frame) if current else 0,
            predictions=drift.source,
            serving=current.serving if current else None,
            redacted=current.redacted if current else {},
        ),
        schema_drift=drift.schema.summary(),
        thresholds=thresholds_record(cfg),
        features=drift.results,
        trigger=outcome,
        timings_s={k: round(v, 4) for k, v in timings.items()},
    )


def run_monitor(composed: MonitorConfig | DictConfig, frame: pd.DataFrame | None = None) -> MonitorResult:
    """``tabpipe monitor`` on its config (typed here if it is still the composed one).
    ``frame``: the current rows, held by the caller (the Python API), in place of ``current``."""
    cfg = to_typed(composed, MonitorConfig)
    started = time.perf_counter()
    bundle = load_bundle(Registry(cfg.registry_root).resolve(cfg.bundle))
    name, version = bundle_identity(bundle)
    types = {k: v for k, v in bundle.schema.input_types.items() if k not in cfg.exclude}
    state_dir, directory = _report_paths(cfg, name)
    timings: dict[str, float] = {}
    drift = _drift(cfg, bundle, types, timings, started, frame)
    results = drift.results
    counts = {s: sum(r.severity == s for r in results) for s in ("alert", "warn", "insufficient_data", "ok")}
    alert = drift.schema.alert or counts["alert"] > 0
    context = {"bundle": cfg.bundle, "model": name, "version": version, "report": str(directory)}
    outcome = _trigger(cfg, bundle, alert, state_dir, context)
    timings["total_s"] = time.perf_counter() - started
    document = _drift_document(cfg, bundle, drift, counts, alert, outcome, timings)
    write_report(document, results, directory, cfg.top_plots)
    return MonitorResult(document, directory, alert)
