"""Join the feature graph and a model graph into the one exported graph.

Outputs: classification -> ``label`` (string [N]) and ``probabilities`` (float [N, K],
classes in ``metadata_props['classes']`` order, no zipmap); regression -> ``prediction``
(float [N]); ranking -> ``score`` (float [N], higher ranks first within a query; comparable
only within one query). The label is the argmax for multiclass; for binary it is the positive class
where ``P(positive) >= threshold``, the decision threshold chosen on the validation split
(an initializer, also in ``metadata_props['decision_threshold']``), so every consumer of
the graph (serving, batch scoring, evaluation) applies the same threshold.
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import compose, helper

from tabpipe.export import IR_VERSION
from tabpipe.export.feature_graph import FEATURES
from tabpipe.export.graph_builder import ONNX_TYPES
from tabpipe.export.model_graphs import SCORES
from tabpipe.tasks import LABEL, PROBABILITIES, get_task
from tabpipe.tasks import PREDICTION as PREDICTION  # the output names, re-exported
from tabpipe.tasks import SCORE as SCORE

THRESHOLD = "post_threshold"


def output_names(task: str) -> list[str]:
    return get_task(task).output_names()


def _label_index(graph: onnx.GraphProto, task: str, threshold: float | None) -> str:
    """The class index per row: argmax, or ``P(positive) >= threshold`` for binary."""
    if not get_task(task).decision_threshold or threshold is None:
        graph.node.append(helper.make_node("ArgMax", [PROBABILITIES], ["post_index"], axis=1, keepdims=0))
        return "post_index"
    graph.initializer.extend(
        [
            helper.make_tensor("post_positive", onnx.TensorProto.INT64, [], [1]),
            helper.make_tensor(THRESHOLD, onnx.TensorProto.FLOAT, [], [threshold]),
        ]
    )
    graph.node.extend(
        [
            helper.make_node("Gather", [PROBABILITIES, "post_positive"], ["post_p1"], axis=1),
            helper.make_node("GreaterOrEqual", ["post_p1", THRESHOLD], ["post_is_positive"]),
            helper.make_node("Cast", ["post_is_positive"], ["post_index"], to=onnx.TensorProto.INT64),
        ]
    )
    return "post_index"


def set_threshold(model: onnx.ModelProto, threshold: float) -> None:
    """Replace the decision threshold of a binary graph (initializer and metadata)."""
    (index,) = [i for i, t in enumerate(model.graph.initializer) if t.name == THRESHOLD]
    model.graph.initializer[index].CopyFrom(
        helper.make_tensor(THRESHOLD, onnx.TensorProto.FLOAT, [], [threshold])
    )
    props = [p for p in model.metadata_props if p.key != "decision_threshold"]
    del model.metadata_props[:]
    model.metadata_props.extend(props)
    model.metadata_props.append(onnx.StringStringEntryProto(key="decision_threshold", value=repr(threshold)))


def _postprocess(
    graph: onnx.GraphProto, scores: str, task: str, classes: list[str] | None, threshold: float | None
) -> None:
    del graph.output[:]
    if not get_task(task).has_classes:
        (name,) = output_names(task)
        shape = helper.make_tensor("post_flat", onnx.TensorProto.INT64, [1], [-1])
        graph.initializer.append(shape)
        graph.node.append(helper.make_node("Reshape", [scores, "post_flat"], [name]))
        graph.output.append(helper.make_tensor_value_info(name, ONNX_TYPES["float"], [None]))
        return
    k = len(classes or [])
    graph.node.append(helper.make_node("Identity", [scores], [PROBABILITIES]))
    graph.node.append(
        helper.make_node(
            "LabelEncoder",
            [_label_index(graph, task, threshold)],
            [LABEL],
            domain="ai.onnx.ml",
            keys_int64s=list(range(k)),
            values_strings=list(classes or []),
            default_string="",
        )
    )
    graph.output.extend(
        [
            helper.make_tensor_value_info(LABEL, ONNX_TYPES["string"], [None]),
            helper.make_tensor_value_info(PROBABILITIES, ONNX_TYPES["float"], [None, k]),
        ]
    )


def assemble(
    feature_graph: onnx.ModelProto,
    model_graph: onnx.ModelProto,
    task: str,
    classes: list[str] | None,
    metadata: dict[str, object],
    threshold: float | None = 0.5,
) -> onnx.ModelProto:
    """``threshold`` applies to binary graphs (see :func:`set_threshold` to move it)."""
    model_graph = compose.add_prefix(model_graph, "model_")
    feature_graph.ir_version = model_graph.ir_version = IR_VERSION
    merged = compose.merge_models(feature_graph, model_graph, io_map=[(FEATURES, f"model_{FEATURES}")])
    _postprocess(merged.graph, f"model_{SCORES}", task, classes, threshold)
    merged.graph.name = "tabpipe"
    del merged.metadata_props[:]
    for key, value in metadata.items():
        text = value if isinstance(value, str) else json.dumps(value)
        merged.metadata_props.append(onnx.StringStringEntryProto(key=key, value=text))
    if get_task(task).decision_threshold and threshold is not None:
        set_threshold(merged, threshold)
    onnx.checker.check_model(merged, full_check=True)
    return merged


def scores_from_outputs(outputs: dict[str, np.ndarray], task: str) -> np.ndarray:
    """What evaluation consumes: probabilities [N, K] (float64), predictions or scores [N]."""
    return get_task(task).scores_from_outputs(outputs)
