"""The converter registry: a fitted model's type -> the function that builds its ONNX graph
(input ``features`` float [N, F] -> output ``scores``, built by :mod:`.model_graphs`).

Models know nothing of export (the import layers of shared/DESIGN.md); export knows the
models. A converter is registered under the qualified name of its model class, so this
module imports no model and no ML library (``model=xgb`` never imports torch), and a model
type is looked up along its MRO (a subclass converts as its base). A model type without a
converter (a user's class plugged in by ``_target_``) converts through its own
``to_onnx(n_features)`` method, or registers one with :func:`register_converter`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import onnx

from tabpipe.errors import ConfigError
from tabpipe.export import model_graphs

Converter = Callable[[Any, int], onnx.ModelProto]

_CONVERTERS: dict[str, Converter] = {}


def _type_name(model_type: type | str) -> str:
    if isinstance(model_type, str):
        return model_type
    return f"{model_type.__module__}.{model_type.__qualname__}"


def register_converter(model_type: type | str) -> Callable[[Converter], Converter]:
    """Decorator: ``converter(model, n_features)`` builds the graph of a fitted
    ``model_type`` (a class, or its qualified name ``package.module.Class``)."""

    def register(converter: Converter) -> Converter:
        _CONVERTERS[_type_name(model_type)] = converter
        return converter

    return register


def registered_types() -> list[str]:
    """The qualified class names that have a converter."""
    return sorted(_CONVERTERS)


def model_graph(model: Any, n_features: int) -> onnx.ModelProto:
    """The ONNX graph of the fitted ``model``: ``features`` float [N, ``n_features``] ->
    ``scores`` (class probabilities [N, K], or [N, 1] for regression and ranking)."""
    for cls in type(model).__mro__:
        converter = _CONVERTERS.get(_type_name(cls))
        if converter is not None:
            return converter(model, n_features)
    own = getattr(model, "to_onnx", None)
    if callable(own):
        return own(n_features)
    raise ConfigError(
        f"model {_type_name(type(model))}: no ONNX converter; register one with "
        "tabpipe.export.converters.register_converter, give the class a to_onnx(n_features) "
        "method, or set export.onnx=false"
    )


@register_converter("tabpipe.models.xgb.XGBoostModel")
def _xgboost(model: Any, n_features: int) -> onnx.ModelProto:
    return model_graphs.xgboost_graph(model.booster_, model.best_iteration_, n_features, model.task_)


@register_converter("tabpipe.models.lgbm.LightGBMModel")
def _lightgbm(model: Any, n_features: int) -> onnx.ModelProto:
    return model_graphs.lightgbm_graph(model.booster_, model.best_iteration_, n_features, model.task_)


@register_converter("tabpipe.models.linear.LinearModel")
def _linear(model: Any, n_features: int) -> onnx.ModelProto:
    return model_graphs.sklearn_graph(model.estimator_, n_features, model.task_)


@register_converter("tabpipe.models.ranking.SingleFeatureRanker")
def _single_feature(model: Any, n_features: int) -> onnx.ModelProto:
    return model_graphs.single_feature_graph(model.feature_, model.sign_, n_features)


@register_converter("tabpipe.models.baseline.BaselineModel")
def _baseline(model: Any, n_features: int) -> onnx.ModelProto:
    """Its best single feature (ranking), else its constant (the priors, or the mean)."""
    if model.kind_ == "best_feature":
        return model_graph(model.estimator_, n_features)
    return model_graphs.constant_graph(model.constant(), n_features)


@register_converter("tabpipe.models.lightning.LightningModel")
def _lightning(model: Any, n_features: int) -> onnx.ModelProto:
    return model_graphs.torch_graph(
        model.module_, n_features, model.task_, model.target_mean_, model.target_std_
    )
