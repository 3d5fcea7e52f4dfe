"""Schema drift: the current data against the bundle's input schema.

A missing column, or a column whose values no longer read as the bundle's type (text in a
numeric column, numbers where the reference had only words), is a schema-drift alert that
names the column; the other columns are still compared. Unreadable values become missing,
exactly as the shared coercion treats a bad row in batch scoring.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from tabpipe.data.coercion import coerce_columns, coerce_rows
from tabpipe.errors import DataValidationError
from tabpipe.export.documents import CategoricalProfile, NumericProfile
from tabpipe.monitoring.document import SchemaSummary

FeatureProfile = NumericProfile | CategoricalProfile


@dataclass
class SchemaDrift:
    missing: list[str] = field(default_factory=list)
    type_changed: dict[str, str] = field(default_factory=dict)
    extra: list[str] = field(default_factory=list)

    @property
    def alert(self) -> bool:
        return bool(self.missing or self.type_changed)

    def lines(self) -> list[str]:
        out = [f"column {name!r}: missing from the current data" for name in self.missing]
        return out + [f"column {name!r}: {why}" for name, why in self.type_changed.items()]

    def summary(self) -> SchemaSummary:
        return SchemaSummary(
            missing=self.missing, type_changed=self.type_changed, extra=self.extra, alert=self.alert
        )


def _looks_numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def coerce_current(
    frame: pd.DataFrame, types: dict[str, str], profile: dict[str, FeatureProfile], ignore: list[str]
) -> tuple[pd.DataFrame, SchemaDrift]:
    """The present schema columns in their canonical dtypes, and the schema drift found."""
    schema = SchemaDrift(
        missing=[name for name in types if name not in frame.columns],
        extra=sorted(set(frame.columns) - set(types) - set(ignore)),
    )
    coerced: dict[str, pd.Series] = {}
    for name, kind in types.items():
        if name not in frame.columns:
            continue
        if isinstance(frame[name].dtype, pd.CategoricalDtype):
            if kind == "categorical" and _text_categories(frame[name]):
                coerced[name] = frame[name]  # already canonical text; the codes are kept
                continue
            raw = frame[[name]].astype(object)
        else:
            raw = frame[[name]]
        try:
            coerced[name] = coerce_columns(raw, {name: kind})[name]
        except DataValidationError:
            values, reasons = coerce_rows(raw, {name: kind})
            bad = reasons != ""
            example = raw[name][bad].iloc[0]
            schema.type_changed[name] = (
                f"expected {kind}; {int(bad.sum())} of {len(raw)} values unreadable, e.g. {example!r}"
            )
            coerced[name] = values[name]
            continue
        if kind == "categorical" and _numbers_for_words(raw[name], profile.get(name)):
            schema.type_changed[name] = "expected categorical words; the current column holds numbers"
    return pd.DataFrame(coerced, index=frame.index), schema


def _text_categories(column: pd.Series) -> bool:
    return all(isinstance(value, str) for value in column.cat.categories)


def _numbers_for_words(raw: pd.Series, entry: FeatureProfile | None) -> bool:
    """A categorical column that now holds numbers although none of its reference categories
    was a number (say a code replaced by an amount)."""
    if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw) or raw.isna().all():
        return False
    listed = entry.listed if isinstance(entry, CategoricalProfile) else []
    return bool(listed) and not any(_looks_numeric(k) for k in listed)
