"""``schema.json``: the bundle's inputs (raw columns, in graph order) and outputs."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from tabpipe.documents.base import Document

ColumnType = Literal["numeric", "boolean", "categorical", "datetime"]


class InputColumn(BaseModel):
    """One graph input: a raw column, its type, how it is fed, what training saw."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: ColumnType
    onnx_type: str
    nullable: bool
    encoding: str
    min: float | None = None  # numeric: the observed training range
    max: float | None = None
    categories: list[str] | None = None  # categorical: the observed set, when small enough


class OutputTensor(BaseModel):
    """One graph output: ``label`` + ``probabilities`` (classification), else one score."""

    model_config = ConfigDict(extra="forbid")

    name: str
    type: str
    shape: list[str | int]
    values: list[str] | None = None  # label: the classes
    columns: list[str] | None = None  # probabilities: one column per class


class SchemaDocument(Document):
    task: str
    classes: list[str] | None = None
    id_columns: list[str] = []
    inputs: list[InputColumn]
    outputs: list[OutputTensor]
    group_column: str | None = None  # ranking: scores compare only within one of its values

    @property
    def input_types(self) -> dict[str, str]:
        """Input name -> column type, in graph order."""
        return {entry.name: entry.type for entry in self.inputs}

    @property
    def class_list(self) -> list[str]:
        """The classes (empty for regression and ranking)."""
        return list(self.classes or [])

    @property
    def echoed_ids(self) -> list[str]:
        """The id columns that are not also inputs (the server echoes them)."""
        features = {entry.name for entry in self.inputs}
        return [name for name in self.id_columns if name not in features]
