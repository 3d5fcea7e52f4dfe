"""The fitted feature pipeline: raw coerced columns -> one float32 matrix.

Missing values, explicitly:

* numeric: imputed with the train median (or mean); ``missing_indicator`` adds a 0/1
  column per numeric column that had missing values in train;
* boolean: imputed with the train mode (plus the indicator);
* categorical: a missing value becomes the category ``__missing__``; a category unseen in
  train (or rarer than ``min_category_frequency``) maps to the encoder's sentinel: an
  all-zero one-hot row (or the infrequent bucket), ordinal code -1, or, for target
  encoding, the train target mean;
* datetime: NaT gives NaN calendar features, imputed with the train median.

Target encoding is out-of-fold: :meth:`TabularPreprocessor.fit_transform` calls
scikit-learn's ``TargetEncoder.fit_transform``, which cross-fits over K folds of train,
so no train row is encoded with its own target. Always fit with ``fit_transform``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import (
    OneHotEncoder,
    OrdinalEncoder,
    RobustScaler,
    StandardScaler,
    TargetEncoder,
)

from tabpipe.config import option_value
from tabpipe.data.column_schema import ColumnSchema
from tabpipe.features.datetime_features import DatetimeFeatures
from tabpipe.tasks import get_task

MISSING_CATEGORY = "__missing__"


@dataclass(frozen=True)
class CategoricalSlot:
    """An ordinal-coded categorical in the output matrix, for embedding layers."""

    index: int
    cardinality: int  # codes run from -1 (sentinel) to cardinality - 2


class TabularPreprocessor:
    """Builds and fits a scikit-learn ``ColumnTransformer`` from the ``features`` config."""

    def __init__(self, features_cfg: Any, schema: dict[str, ColumnSchema], task: str, seed: int):
        self.features_cfg = features_cfg
        self.schema = schema
        self.task = task
        self.seed = seed

    def _columns(self, kind: str) -> list[str]:
        return [name for name, spec in self.schema.items() if spec.type == kind]

    def _categorical_encoder(self) -> Any:
        cfg = self.features_cfg
        encoding = option_value(cfg.categorical_encoding)
        min_frequency = cfg.min_category_frequency if cfg.min_category_frequency > 1 else None
        if encoding == "onehot":
            return OneHotEncoder(
                handle_unknown="infrequent_if_exist" if min_frequency else "ignore",
                min_frequency=min_frequency,
                sparse_output=False,
            )
        if encoding == "ordinal":
            return OrdinalEncoder(
                handle_unknown="use_encoded_value", unknown_value=-1, min_frequency=min_frequency
            )
        task = get_task(self.task)
        folds = StratifiedKFold if task.has_classes else KFold
        return TargetEncoder(
            target_type=task.target_type,
            cv=folds(cfg.target_encoding_folds, shuffle=True, random_state=self.seed),
        )

    def _categorical_pipeline(self) -> Pipeline:
        return Pipeline(
            [
                ("impute", SimpleImputer(strategy="constant", fill_value=MISSING_CATEGORY)),
                ("encode", self._categorical_encoder()),
            ]
        )

    def _build(self) -> ColumnTransformer:
        cfg = self.features_cfg
        scaler = {"standard": StandardScaler(), "robust": RobustScaler()}.get(option_value(cfg.scaling))
        impute = option_value(cfg.numeric_imputation)
        numeric_steps = [
            (
                "impute",
                SimpleImputer(strategy=impute, add_indicator=cfg.missing_indicator, keep_empty_features=True),
            )
        ]
        datetime_steps = [
            (
                "calendar",
                DatetimeFeatures(list(cfg.datetime_parts), cfg.cyclical, cfg.holidays_country),
            ),
            ("impute", SimpleImputer(strategy="median", keep_empty_features=True)),
        ]
        if scaler is not None:
            numeric_steps.append(("scale", scaler))
        boolean = SimpleImputer(
            strategy="most_frequent", add_indicator=cfg.missing_indicator, keep_empty_features=True
        )
        # one pipeline per categorical column, so each column's output slice is known
        # (the ONNX export compiles each into a lookup table)
        categorical = [
            (f"categorical_{i}", self._categorical_pipeline(), [name])
            for i, name in enumerate(self._columns("categorical"))
        ]
        blocks = [
            ("numeric", Pipeline(numeric_steps), self._columns("numeric")),
            ("boolean", boolean, self._columns("boolean")),
            *categorical,
            ("datetime", Pipeline(datetime_steps), self._columns("datetime")),
        ]
        return ColumnTransformer(
            [block for block in blocks if block[2]],
            sparse_threshold=0.0,
            verbose_feature_names_out=True,
        )

    def fit_transform(self, X: pd.DataFrame, y: np.ndarray) -> np.ndarray:
        """Fit on train (out-of-fold for target encoding) and return train features."""
        self.transformer_ = self._build()
        out = self.transformer_.fit_transform(X, y)
        self.feature_names_ = [str(n) for n in self.transformer_.get_feature_names_out()]
        self.categorical_slots_ = self._categorical_slots()
        return np.ascontiguousarray(out, dtype=np.float32)

    def transform(self, X: pd.DataFrame) -> np.ndarray:
        return np.ascontiguousarray(self.transformer_.transform(X), dtype=np.float32)

    def categorical_blocks(self) -> list[tuple[str, str, slice]]:
        """(column, transformer name, output slice) of each categorical column."""
        columns = self._columns("categorical")
        return [
            (name, f"categorical_{i}", self.transformer_.output_indices_[f"categorical_{i}"])
            for i, name in enumerate(columns)
        ]

    def target_encoded_slices(self) -> list[slice]:
        """Output slices whose train values are cross-fitted (differ from ``transform``)."""
        if option_value(self.features_cfg.categorical_encoding) != "target":
            return []
        return [block for _, _, block in self.categorical_blocks()]

    def _categorical_slots(self) -> list[CategoricalSlot]:
        if option_value(self.features_cfg.categorical_encoding) != "ordinal":
            return []
        slots = []
        for _, transformer, block in self.categorical_blocks():
            encoder = self.transformer_.named_transformers_[transformer].named_steps["encode"]
            slots.append(CategoricalSlot(block.start, len(encoder.categories_[0]) + 1))
        return slots

    def describe(self) -> dict[str, Any]:
        """The strategy used, recorded in the run."""
        cfg = self.features_cfg
        return {
            "recipe": cfg.name,
            "numeric_imputation": option_value(cfg.numeric_imputation),
            "missing_indicator": bool(cfg.missing_indicator),
            "scaling": option_value(cfg.scaling),
            "categorical_encoding": option_value(cfg.categorical_encoding),
            "columns_by_type": {
                kind: self._columns(kind) for kind in ("numeric", "boolean", "categorical", "datetime")
            },
            "n_features_out": len(self.feature_names_),
        }
