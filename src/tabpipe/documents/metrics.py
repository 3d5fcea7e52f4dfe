"""``metrics.json`` (a run's and a bundle's): metric name -> value, a NaN where a metric is
undefined for the data (written by ``json.dumps`` as ``NaN``). Read through :func:`read_metrics`,
validated, one line naming the file and the metric when it does not."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import TypeAdapter, ValidationError

from tabpipe.documents.base import DocumentError, one_line

METRICS = TypeAdapter(dict[str, float])


def read_metrics(path: Path) -> dict[str, float]:
    """``path`` (a ``metrics.json``) as metric name -> float."""
    try:
        raw = json.loads(Path(path).read_text())
    except json.JSONDecodeError as error:
        raise DocumentError(f"{Path(path).name}: not valid JSON ({error.msg}, line {error.lineno})") from None
    try:
        return METRICS.validate_python(raw)
    except ValidationError as error:
        raise DocumentError(one_line(error, Path(path).name)) from None
