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

SCORE_CHUNK = 100_000
# the one numeric output of a regression or ranking graph
SINGLE_OUTPUT = {"regression": "prediction", "ranking": "score"}


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
    parts = []
    for start in range(0, len(coerced), SCORE_CHUNK):
        outputs = runtime.run(session, tensors_from_coerced(coerced.iloc[start : start + SCORE_CHUNK], types))
        if task in SINGLE_OUTPUT:
            name = SINGLE_OUTPUT[task]
            parts.append(pd.DataFrame({name: outputs[name].reshape(-1)}))
        else:
            probabilities = outputs["probabilities"]
            frame = pd.DataFrame(probabilities, columns=[f"proba_{c}" for c in classes])
            frame.insert(0, "label", np.asarray(classes, dtype=object)[probabilities.argmax(axis=1)])
            parts.append(frame)
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
    if isinstance(reference, NumericProfile):
        name = SINGLE_OUTPUT[task]
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
    shown = classes[-1:] if task == "binary" else classes
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
