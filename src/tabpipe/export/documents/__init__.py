"""The bundle's typed documents: ``schema.json``, ``metadata.json`` and
``reference_profile.json``, each with a ``format_version`` (see :mod:`.base` for the one
migration from older formats and the one-line refusal)."""

from tabpipe.documents.base import FORMAT_VERSION, Document, DocumentError, migrate, parse, read
from tabpipe.documents.metadata import EvaluationRecord, MetadataDocument, RegistryRecord
from tabpipe.export.documents.profile import (
    CategoricalProfile,
    ClassificationProfile,
    NumericProfile,
    ProfileDocument,
)
from tabpipe.export.documents.schema import InputColumn, OutputTensor, SchemaDocument

__all__ = [
    "FORMAT_VERSION",
    "CategoricalProfile",
    "ClassificationProfile",
    "Document",
    "DocumentError",
    "EvaluationRecord",
    "InputColumn",
    "MetadataDocument",
    "NumericProfile",
    "OutputTensor",
    "ProfileDocument",
    "RegistryRecord",
    "SchemaDocument",
    "migrate",
    "parse",
    "read",
]
