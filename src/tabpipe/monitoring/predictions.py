"""Prediction drift: the current predictions against the profile's prediction distribution.

The predictions come from the prediction log's outputs, from ``label``/``proba_<class>``,
``prediction`` (regression) or ``score`` (ranking) columns of the current file, or, when the
file holds features only, from scoring it with the bundle's own graph (ONNX Runtime;
``monitor.score``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from tabpipe.export.documents import CategoricalProfile, ClassificationProfile, NumericProfile
from tabpipe.monitoring.compare import (
    FeatureDrift,
    Thresholds,
    add_chi2,
    add_ks,
    compare_binned,
    compare_categorical,
    compare_numeric,
)
from tabpipe.tasks import LABEL, get_task

SCORE_CHUNK = 100_000


def score(
    model_path: Any,
    coerced: pd.DataFrame,
    types: dict[str, str],
    task: str,
    classes: list[str],
    providers: list[str],
) -> pd.DataFrame:
    """Score the coerced current rows with the bundle's graph, in chunks."""
    from tabpipe.export import runtime
    from tabpipe.export.inputs import tensors_from_coerced

    session = runtime.session(model_path, providers)
    strategy = get_task(task)
    parts = []
    for start in range(0, len(coerced), SCORE_CHUNK):
        outputs = runtime.run(session, tensors_from_coerced(coerced.iloc[start : start + SCORE_CHUNK], types))
        # the label as the reference profile counts it: the argmax of the probabilities
        outputs.pop(LABEL, None)
        parts.append(pd.DataFrame(strategy.output_columns(outputs, classes)))
    return pd.concat(parts, ignore_index=True)


def compare_predictions(
    reference: NumericProfile | ClassificationProfile,
    predictions: pd.DataFrame,
    task: str,
    classes: list[str],
    t: Thresholds,
) -> list[FeatureDrift]:
    """``prediction`` (regression), ``score`` (ranking) or ``prediction.label`` and
    ``prediction.proba_<class>`` (the positive class only for a binary task), each with its test."""
    strategy = get_task(task)
    if isinstance(reference, NumericProfile):  # no classes: one numeric output
        (name,) = strategy.output_names()
        if name not in predictions:
            return []
        values = predictions[name].to_numpy(dtype=np.float64, na_value=np.nan)
        result = compare_numeric(name, reference, values, t)
        result.kind = "prediction"
        add_ks(result, reference, values, t)
        return [result]
    results = []
    if "label" in predictions:
        entry = CategoricalProfile(missing_rate=0.0, count=0, frequencies=reference.class_shares)
        labels = predictions["label"].astype(object).where(predictions["label"].notna())
        result = compare_categorical("prediction.label", entry, labels.map(str, na_action="ignore"), t)
        result.kind = "prediction"
        add_chi2(result, t)
        results.append(result)
    shown = strategy.monitored_classes(classes)
    for name in shown:
        column = f"proba_{name}"
        shares = reference.probability_shares.get(name)
        if column not in predictions or shares is None:
            continue
        values = predictions[column].to_numpy(dtype=np.float64, na_value=np.nan)
        result = compare_binned(f"prediction.{column}", reference.probability_edges, shares, values, t)
        add_chi2(result, t)
        results.append(result)
    return results
