"""The bundle's typed documents (schema.json, metadata.json, reference_profile.json): round
trip, format_version, the one migration from the unversioned format, one-line refusals.
No training: the documents are built by the exporter's own functions on small frames."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tabpipe.data.column_schema import ColumnSchema
from tabpipe.export import documents
from tabpipe.export.bundle import schema_document
from tabpipe.export.documents import (
    FORMAT_VERSION,
    CategoricalProfile,
    DocumentError,
    MetadataDocument,
    NumericProfile,
    ProfileDocument,
    SchemaDocument,
)
from tabpipe.export.profile import reference_profile

COLUMNS = {
    "tenure": ColumnSchema("tenure", "numeric", True, 0.0, 72.0),
    "contract": ColumnSchema("contract", "categorical", False, categories=["month", "year"]),
}
METADATA = {
    "task": "binary",
    "classes": ["No", "Yes"],
    "seed": 7,
    "config": {"seed": 7, "model": {"_target_": "tabpipe.models.xgb.XGBModel", "n_estimators": 20}},
    "dataset": {"uri": "telco.csv", "sha256": "ab" * 32, "n_rows": 3, "n_columns": 3},
    "splits": [{"fold": None, "train": 1, "val": 1, "test": 1, "row_ids_sha256": {"train": "x"}}],
    "started_at": "2026-12-03T10:00:00+00:00",
    "metrics": {"test/auc": 0.8, "test/brier": math.nan},
    "written_by_a_newer_tabpipe": {"kept": True},
}


def _profile() -> ProfileDocument:
    frame = pd.DataFrame({"tenure": [1.0, 5.0, np.nan, 30.0] * 25, "contract": ["month", "year"] * 50})
    scores = np.tile([[0.8, 0.2], [0.3, 0.7]], (50, 1))
    return reference_profile(frame, COLUMNS, scores, "binary", ["No", "Yes"], bins=4)


def _schema() -> SchemaDocument:
    return schema_document(COLUMNS, "binary", ["No", "Yes"], ["customer_id"])


@pytest.mark.parametrize("name", ["schema", "metadata", "profile"])
def test_documents_round_trip_through_their_files_with_a_format_version(tmp_path: Path, name: str) -> None:
    document = {
        "schema": _schema,
        "metadata": lambda: MetadataDocument.model_validate(METADATA),
        "profile": _profile,
    }[name]()
    path = document.write(tmp_path / f"{name}.json")
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # written to a temp path, renamed
    raw = json.loads(path.read_text())
    assert raw["format_version"] == FORMAT_VERSION == 1
    again = documents.read(type(document), path)
    assert type(again) is type(document)
    assert again.write(tmp_path / "again.json").read_text() == path.read_text()


def test_the_documents_carry_what_their_readers_use() -> None:
    schema = _schema()
    assert schema.input_types == {"tenure": "numeric", "contract": "categorical"}
    assert schema.echoed_ids == ["customer_id"] and schema.class_list == ["No", "Yes"]
    assert [o.name for o in schema.outputs] == ["label", "probabilities"]
    profile = _profile()
    tenure, contract = profile.features["tenure"], profile.features["contract"]
    assert isinstance(tenure, NumericProfile) and isinstance(contract, CategoricalProfile)
    assert tenure.missing_rate == 0.25 and len(tenure.shares) == len(tenure.edges) + 1
    assert contract.listed == ["month", "year"] and contract.reference_shares() == [0.5, 0.5, 0.0]
    metadata = MetadataDocument.model_validate(METADATA)
    assert metadata.config.model_class == "XGBModel" and metadata.version_label == "unregistered"
    assert metadata.config.tree()["model"] == METADATA["config"]["model"]  # the config kept whole
    # NaN metrics and keys a newer writer added survive the round trip
    again = json.loads(json.dumps(metadata.to_json()))
    assert math.isnan(again["metrics"]["test/brier"])
    assert again["written_by_a_newer_tabpipe"] == {"kept": True}


def test_an_unversioned_document_is_migrated_in_memory(tmp_path: Path) -> None:
    """Written before documents were versioned: the same fields, read as version 1 by the
    one migration; the file itself is left as written (its checksum still holds)."""
    raw = _schema().to_json()
    del raw["format_version"]
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(raw))
    before = path.read_bytes()
    assert documents.migrate(raw, "schema.json")["format_version"] == 1
    assert documents.read(SchemaDocument, path) == _schema()
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format_version": 2}, "schema.json: format_version 2 is newer than this tabpipe reads (1)"),
        ({"format_version": "1"}, "schema.json: format_version '1': must be a whole number"),
        ({"task": None}, "schema.json: field task: Input should be a valid string"),
        ({"inputs": [{"name": "tenure", "type": "money"}]}, "schema.json: field inputs.0.type: Input"),
        ({"colour": "red"}, "schema.json: field colour: Extra inputs are not permitted"),
    ],
)
def test_a_malformed_or_newer_document_is_refused_in_one_line_naming_the_field(
    tmp_path: Path, change: dict, message: str
) -> None:
    path = tmp_path / "schema.json"
    path.write_text(json.dumps(_schema().to_json() | change))
    with pytest.raises(DocumentError) as caught:
        documents.read(SchemaDocument, path)
    assert str(caught.value).startswith(message) and "\n" not in str(caught.value)
    assert caught.value.exit_code == 2


def test_a_profile_entry_of_an_unknown_kind_is_refused_naming_the_feature(tmp_path: Path) -> None:
    raw = _profile().to_json()
    raw["features"]["tenure"]["kind"] = "histogram"
    with pytest.raises(DocumentError, match=r"^reference_profile.json: field features.tenure: .*'numeric'"):
        documents.parse(ProfileDocument, raw, "reference_profile.json")
    with pytest.raises(DocumentError, match=r"^metadata.json: field dataset: Field required$"):
        without = {k: v for k, v in METADATA.items() if k != "dataset"}
        documents.parse(MetadataDocument, without, "metadata.json")
    with pytest.raises(DocumentError, match=r"^metadata.json: expected a JSON object, got list$"):
        documents.parse(MetadataDocument, [METADATA], "metadata.json")
