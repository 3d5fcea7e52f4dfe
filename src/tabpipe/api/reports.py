"""``tabpipe.evaluate``, ``tabpipe.compare`` and ``tabpipe.monitor``: the documents of
``tabpipe eval``, ``tabpipe compare`` and ``tabpipe monitor``, on a DataFrame.

Each composes its command's config (``conf/eval.yaml``, ``conf/monitor.yaml``) with the
given overrides, as the command does, runs the same code on the frame's rows in place of a
file, writes the same files (report, plots, ``evaluation.json`` / ``drift.json``) and
returns the typed document. A failed gate or a drift alert is in the document (its
``gates``, its ``status``); it is not raised, and nothing exits.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabpipe.api.overrides import Overrides, override_list, override_value

if TYPE_CHECKING:
    import pandas as pd

    from tabpipe.api.bundle import Bundle
    from tabpipe.api.training import Run
    from tabpipe.comparison.document import ComparisonDocument
    from tabpipe.evaluation.document import EvaluationDocument
    from tabpipe.monitoring.document import DriftDocument


def _ref(model: Any) -> str:
    """A :class:`~tabpipe.api.bundle.Bundle` as its directory, a :class:`~tabpipe.api.training.Run`
    as its run directory; a ref or path as given."""
    for attribute in ("path", "run_dir"):
        path = getattr(model, attribute, None)
        if isinstance(path, Path):
            return str(path)
    return str(model)


def _registry_of(bundle: Any) -> Path | None:
    """A loaded registered version's registry (``<root>/<name>/<version>``), else None."""
    record = getattr(getattr(bundle, "metadata", None), "registry", None)
    return Path(bundle.path).parent.parent if record is not None else None


def _app_config(name: str, bundle: Any, registry: str | Path | None, extra: list[str], overrides: Overrides):
    """``conf/<name>.yaml`` composed with the bundle, the registry and ``overrides``, typed."""
    from tabpipe.cli.groups import compose_app_config
    from tabpipe.config.app_schema import APP_SCHEMAS
    from tabpipe.config.typed import to_typed

    args = [f"bundle={override_value(_ref(bundle))}", *extra]
    registry = registry if registry is not None else _registry_of(bundle)
    if registry is not None:
        args.append(f"registry_root={override_value(str(registry))}")
    return to_typed(compose_app_config(name, [*args, *override_list(overrides)]), APP_SCHEMAS[name])


def _in_project(project: str | Path | None) -> AbstractContextManager[None]:
    """For the call, the project as ``tabpipe --project <dir>`` sets it (its conf/, its
    registry, its logs/); the discovered one when ``project`` is None."""
    from tabpipe.api.training import project_environment
    from tabpipe.config.project import find_project

    return project_environment(find_project(project) if project is not None else None)


def evaluate(
    bundle: Bundle | str | Path,
    df: pd.DataFrame,
    *,
    registry: str | Path | None = None,
    overrides: Overrides = (),
    project: str | Path | None = None,
) -> EvaluationDocument:
    """Evaluate a bundle on the rows of ``df`` (features and the target), as ``tabpipe eval
    rows=all`` evaluates a file: the same metrics, threshold analysis, gates, references
    (the bundle's baseline, the registry's production version), plots and report.

    Args:
        bundle: a :class:`~tabpipe.api.bundle.Bundle`, ``name@alias``, ``name:version`` or a
            bundle directory.
        df: the rows, read with the bundle's recorded data config (its target, ids, positive
            class) and input types.
        registry: the registry directory (default: ``$TABPIPE_REGISTRY``, else the project's
            ``registry/``).
        overrides: keys of ``conf/eval.yaml`` (``output_dir``, ``eval.plots=false``, ``data.*``
            when the frame's columns differ from the training data's, ...).
        project: the project whose ``conf/eval.yaml``, registry and ``logs/`` to use, as
            ``tabpipe --project <dir> eval``. Default: found as the CLI finds it.

    Returns:
        The document written as ``evaluation.json`` (in ``output_dir``, default
        ``logs/eval/runs/<time>``).

    Raises:
        tabpipe.errors.DataValidationError: rows that break a data rule (one line per rule).
        tabpipe.errors.ConfigError: a bad override or a bundle with no recorded data config.
    """
    from tabpipe.data.sources import frame_source
    from tabpipe.evaluation.bundle_evaluation import evaluate_bundle

    source = frame_source(df)
    with _in_project(project):
        cfg = _app_config("eval", bundle, registry, ["rows=all"], overrides)
        return evaluate_bundle(cfg, source).result.document


def compare(
    a: Bundle | Run | str | Path,
    b: Bundle | Run | str | Path,
    df: pd.DataFrame | None = None,
    *,
    registry: str | Path | None = None,
    metric: str | None = None,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> ComparisonDocument:
    """Compare model B with model A on the same rows, as ``tabpipe compare`` does: both
    models' metrics, a paired bootstrap CI of the primary metric's difference (B - A) and,
    for classifiers, McNemar's test.

    Args:
        a: a :class:`~tabpipe.api.bundle.Bundle`, a :class:`~tabpipe.api.training.Run` (k-fold
            runs too), a registry ref, a bundle or run directory.
        b: the model compared with A.
        df: the rows to score with both (features and the target). Default: the rows both
            models held out at training, rebuilt from their records (the CLI's behaviour).
        registry: the registry directory of the refs.
        metric: the metric to test (default: A's primary metric).
        resamples: bootstrap resamples.
        confidence: the CI level.
        seed: the bootstrap seed.

    Returns:
        The comparison document (what ``tabpipe compare --output`` writes).

    Raises:
        tabpipe.errors.ConfigError: models of different tasks, classes or targets, or a bad
            argument.
    """
    from tabpipe.comparison.compare import compare as compare_models
    from tabpipe.data.sources import frame_source

    source = frame_source(df) if df is not None else None
    root = None if registry is None else str(registry)
    return compare_models(_ref(a), _ref(b), root, metric, resamples, confidence, seed, source)


def monitor(
    bundle: Bundle | str | Path,
    df: pd.DataFrame,
    *,
    registry: str | Path | None = None,
    overrides: Overrides = (),
    project: str | Path | None = None,
) -> DriftDocument:
    """Drift of the rows of ``df`` against the bundle's training profile, as ``tabpipe
    monitor current=<file>`` reports a file: PSI, KL, KS / chi-square with the
    Benjamini-Hochberg correction, the prediction drift (the frame's ``label`` /
    ``proba_*`` columns, else the bundle's scores) and the schema drift.

    Args:
        bundle: a :class:`~tabpipe.api.bundle.Bundle`, ``name@alias``, ``name:version`` or a
            bundle directory.
        df: the current rows (the raw input columns; prediction columns optional).
        registry: the registry directory (default: ``$TABPIPE_REGISTRY``, else the project's
            ``registry/``).
        overrides: keys of ``conf/monitor.yaml`` (``window=1000``, ``output_dir``, the
            thresholds, ``on_alert``, ...).
        project: the project whose ``conf/monitor.yaml``, registry and ``logs/`` to use, as
            ``tabpipe --project <dir> monitor``. Default: found as the CLI finds it.

    Returns:
        The document written as ``drift.json``; ``status`` is ``alert`` on drift.

    Raises:
        tabpipe.errors.ConfigError: a bad override, or an empty frame.
    """
    from tabpipe.monitoring.run import run_monitor

    with _in_project(project):
        cfg = _app_config("monitor", bundle, registry, ["current=null"], overrides)
        return run_monitor(cfg, df).document
