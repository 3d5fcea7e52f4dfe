"""The bundle's typed documents: ``schema.json``, ``metadata.json`` and
``reference_profile.json``, each with a ``format_version`` (see :mod:`tabpipe.documents.base`
for the one migration from older formats and the one-line refusal). ``metadata.json``'s model
is shared with the run directory's copy, so it lives in layer 0 (:mod:`tabpipe.documents`)
and is re-exported here."""

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
