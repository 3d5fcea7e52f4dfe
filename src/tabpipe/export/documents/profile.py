"""``reference_profile.json``: the training distributions that drift monitoring compares
with (how they are computed: :mod:`tabpipe.export.profile`)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tabpipe.documents.base import Document

OTHER = "__other__"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="forbid", ser_json_inf_nan="constants")


class NumericProfile(_Entry):
    """Quantile bins given by their inner cut points (``(-inf, e1], ..., (ek, inf)``), the
    share of the present values in each, and a quantile sample for the KS test."""

    kind: Literal["numeric"] = "numeric"
    type: str = "numeric"  # numeric, boolean or datetime (as seconds); the prediction: numeric
    missing_rate: float
    count: int
    edges: list[float] = []
    shares: list[float] = []
    mean: float | None = None
    std: float | None = None
    min: float | None = None
    max: float | None = None
    ks_sample: list[float] = []  # empty in profiles written before the KS test


class CategoricalProfile(_Entry):
    """The shares of the most common categories; the rest summed under ``__other__``."""

    kind: Literal["categorical"] = "categorical"
    missing_rate: float
    count: int
    frequencies: dict[str, float] = {}

    @property
    def listed(self) -> list[str]:
        """The categories profiled by name (not ``__other__``)."""
        return [name for name in self.frequencies if name != OTHER]

    def reference_shares(self) -> list[float]:
        """The listed categories' shares, then ``__other__``'s."""
        return [*(self.frequencies[name] for name in self.listed), self.frequencies.get(OTHER, 0.0)]


class ClassificationProfile(_Entry):
    """Class shares and, per class, the probabilities' shares on equal-width bins of [0, 1]."""

    kind: Literal["classification"] = "classification"
    class_shares: dict[str, float]
    probability_edges: list[float]
    probability_shares: dict[str, list[float]]


FeatureProfile = Annotated[NumericProfile | CategoricalProfile, Field(discriminator="kind")]
PredictionProfile = Annotated[NumericProfile | ClassificationProfile, Field(discriminator="kind")]


class ProfileDocument(Document):
    bins: int
    rows: int
    features: dict[str, FeatureProfile]
    prediction: PredictionProfile | None = None
