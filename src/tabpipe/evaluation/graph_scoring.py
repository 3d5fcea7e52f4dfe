"""Score rows with an exported graph the way serving does: the evaluated model itself, and
another registered version (``production``) as a reference on the same rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tabpipe.errors import TabpipeError, first_line
from tabpipe.evaluation.importance import Scorer
from tabpipe.evaluation.suite import Reference
from tabpipe.export import runtime
from tabpipe.export.assemble import LABEL, scores_from_outputs
from tabpipe.export.bundle import load_bundle
from tabpipe.export.inputs import graph_inputs, tensors_from_coerced


def label_indices(names: np.ndarray, classes: list[str]) -> np.ndarray:
    """The graph's ``label`` strings as class indices."""
    index = {label: i for i, label in enumerate(classes)}
    return np.array([index[str(name)] for name in names], dtype=np.int64)


def outputs_to_scores(outputs: dict[str, np.ndarray], task: str, classes: list[str] | None):
    """(scores, class indices of the graph's label output; None for regression and ranking)."""
    scores = scores_from_outputs(outputs, task)
    labels = label_indices(outputs[LABEL], list(classes or [])) if LABEL in outputs else None
    return scores, labels


def graph_scorer(session: Any, types: dict[str, str], task: str, classes: list[str] | None) -> Scorer:
    """A frame in canonical dtypes (see ``coerce_columns``) -> (scores, labels)."""

    def score(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray | None]:
        return outputs_to_scores(runtime.run(session, tensors_from_coerced(frame, types)), task, classes)

    return score


def bundle_reference(
    name: str, description: str, path: Path, raw: pd.DataFrame, task: str, classes: list[str] | None
) -> Reference:
    """Score the raw rows with the bundle at ``path`` (its own schema, the serving path);
    a bundle that cannot score these rows gives a reference with a note instead."""
    try:
        bundle = load_bundle(path)
    except TabpipeError as exc:
        return Reference(name, description, note=f"not compared: {exc}")
    if bundle.schema.task != task or bundle.schema.class_list != list(classes or []):
        return Reference(
            name,
            description,
            note=f"not compared: it predicts {bundle.schema.task} {bundle.schema.classes}",
        )
    schema = {name: {"type": kind} for name, kind in bundle.schema.input_types.items()}
    missing = [column for column in schema if column not in raw.columns]
    if missing:
        return Reference(name, description, note=f"not compared: its input column {missing[0]!r} is absent")
    try:
        outputs = runtime.run(runtime.session(bundle.model_path), graph_inputs(raw[list(schema)], schema))
    except TabpipeError as exc:
        return Reference(name, description, note=f"not compared: {first_line(exc)}")
    scores, labels = outputs_to_scores(outputs, task, classes)
    return Reference(name, description, scores, labels)


def feature_scorer(model_path: Path, types: dict[str, str], providers: list[str] | None = None):
    """A frame in canonical dtypes -> the encoded features [N, F] inside the bundle's graph
    (the feature graph's output, which the model part reads), exposed as an extra output."""
    import onnx

    from tabpipe.export.feature_graph import FEATURES

    model = onnx.load(str(model_path))
    model.graph.output.append(onnx.helper.make_tensor_value_info(FEATURES, onnx.TensorProto.FLOAT, None))
    session = runtime.session(model, providers or runtime.DEFAULT_PROVIDERS)

    def features(frame: pd.DataFrame) -> np.ndarray:
        return runtime.run(session, tensors_from_coerced(frame, types))[FEATURES]

    return features
