"""ONNX graphs of the fitted models: input ``features`` float [N, F] -> output ``scores``.

``scores`` are class probabilities [N, K] for classification, predictions [N, 1] for
regression, scores [N, 1] for ranking. Trees go through onnxmltools, linear models through
skl2onnx, Lightning networks through ``torch.onnx.export``; the baseline is a constant (or,
for ranking, one feature column).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import onnx

from tabpipe.export import ML_OPSET, OPSET
from tabpipe.export.graph_builder import GraphBuilder
from tabpipe.tasks import get_task

SCORES = "scores"
FEATURES = "features"


def _retarget(model: onnx.ModelProto, score_output: str) -> onnx.ModelProto:
    """Expose ``score_output`` as ``scores`` only, at the project's opsets."""
    graph = model.graph
    graph.node.append(onnx.helper.make_node("Identity", [score_output], [SCORES]))
    kept = [o for o in graph.output if o.name == score_output]
    del graph.output[:]
    graph.output.append(
        onnx.helper.make_tensor_value_info(
            SCORES,
            onnx.TensorProto.FLOAT,
            [d.dim_value or None for d in kept[0].type.tensor_type.shape.dim] or None,
        )
    )
    del model.opset_import[:]
    model.opset_import.extend(
        [onnx.helper.make_opsetid("", OPSET), onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    )
    return model


def _score_output(model: onnx.ModelProto, task: str) -> str:
    names = [o.name for o in model.graph.output]
    return names[1] if get_task(task).has_classes else names[0]


def xgboost_graph(booster: Any, best_iteration: int, n_features: int, task: str) -> onnx.ModelProto:
    from onnxmltools import convert_xgboost
    from onnxmltools.convert.common.data_types import FloatTensorType

    trimmed = booster[: best_iteration + 1]
    if get_task(task).needs_groups:  # a rank:* booster
        # onnxmltools guesses "classifier" for a rank:* booster (its covers are not whole
        # numbers); a ranking score is the raw margin, which is exactly what the identity-link
        # regression converter emits (same trees, same base score)
        trimmed.set_param({"objective": "reg:squarederror"})
    model = convert_xgboost(
        trimmed, initial_types=[(FEATURES, FloatTensorType([None, n_features]))], target_opset=OPSET
    )
    return _retarget(model, _score_output(model, task))


def lightgbm_graph(booster: Any, best_iteration: int, n_features: int, task: str) -> onnx.ModelProto:
    import lightgbm as lgb
    from onnxmltools import convert_lightgbm
    from onnxmltools.convert.common.data_types import FloatTensorType

    trimmed = lgb.Booster(model_str=booster.model_to_string(num_iteration=best_iteration))
    model = convert_lightgbm(
        trimmed,
        initial_types=[(FEATURES, FloatTensorType([None, n_features]))],
        target_opset=OPSET,
        zipmap=False,
    )
    return _retarget(model, _score_output(model, task))


def sklearn_graph(estimator: Any, n_features: int, task: str) -> onnx.ModelProto:
    from skl2onnx import convert_sklearn
    from skl2onnx.common.data_types import FloatTensorType

    options = {id(estimator): {"zipmap": False}} if get_task(task).has_classes else None
    model = convert_sklearn(
        estimator,
        initial_types=[(FEATURES, FloatTensorType([None, n_features]))],
        options=options,
        target_opset={"": OPSET, "ai.onnx.ml": ML_OPSET},
    )
    return _retarget(model, _score_output(model, task))


def constant_graph(values: np.ndarray, n_features: int) -> onnx.ModelProto:
    """Every row gets ``values`` (class priors [K], or the mean as [1])."""
    g = GraphBuilder("base_")
    x = g.add_input(FEATURES, "float", n_features)
    rows = g.op("Slice", [g.op("Shape", [x]), g.const(np.array([0])), g.const(np.array([1]))])
    width = g.const(np.array([len(values)], dtype=np.int64))
    shape = g.op("Concat", [rows, width], axis=0)
    row = g.const(np.asarray(values, dtype=np.float32).reshape(1, -1))
    g.add_output(g.op("Expand", [row, shape]), SCORES, "float", [None, len(values)])
    return g.model("tabpipe_baseline")


def single_feature_graph(feature: int, sign: float, n_features: int) -> onnx.ModelProto:
    """The ranking baseline: ``sign * features[:, feature]`` as scores [N, 1]."""
    g = GraphBuilder("base_")
    x = g.add_input(FEATURES, "float", n_features)
    column = g.op("Gather", [x, g.const(np.array([feature], dtype=np.int64))], axis=1)
    scores = g.op("Mul", [column, g.const(np.array([sign], dtype=np.float32))])
    g.add_output(scores, SCORES, "float", [None, 1])
    return g.model("tabpipe_single_feature")


def torch_graph(
    module: Any, n_features: int, task: str, target_mean: float = 0.0, target_std: float = 1.0
) -> onnx.ModelProto:
    import torch

    activation = get_task(task).output_activation

    class Scores(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.net = module

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            raw = self.net(x)
            if activation == "sigmoid":  # one logit: P(positive) -> both classes
                p = torch.sigmoid(raw.reshape(-1, 1))
                return torch.cat([1 - p, p], dim=1)
            if activation == "softmax":
                return torch.softmax(raw, dim=1)
            return raw.reshape(-1, 1) * target_std + target_mean

    wrapper = Scores().eval()
    buffer = io.BytesIO()
    torch.onnx.export(
        wrapper,
        (torch.zeros(2, n_features),),
        buffer,
        input_names=[FEATURES],
        output_names=[SCORES],
        dynamic_axes={FEATURES: {0: "n"}, SCORES: {0: "n"}},
        opset_version=OPSET,
        dynamo=False,
    )
    model = onnx.load_from_string(buffer.getvalue())
    del model.opset_import[:]
    model.opset_import.extend(
        [onnx.helper.make_opsetid("", OPSET), onnx.helper.make_opsetid("ai.onnx.ml", ML_OPSET)]
    )
    return model
