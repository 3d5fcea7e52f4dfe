"""The parity gate: the saved graph, fed raw rows through the serving path, must equal the
predictions evaluation used (identical labels, scores within ``rtol`` relative)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tabpipe.errors import ParityError
from tabpipe.export import runtime
from tabpipe.export.assemble import LABEL, scores_from_outputs
from tabpipe.export.inputs import graph_inputs
from tabpipe.tasks import get_task


@dataclass
class ParityResult:
    rows: int
    max_abs_diff: float
    max_rel_diff: float
    label_agreement: float
    providers: list[str]
    rtol: float

    @property
    def passed(self) -> bool:
        return self.label_agreement == 1.0 and self.max_rel_diff <= self.rtol

    def as_dict(self) -> dict[str, object]:
        return {**asdict(self), "passed": self.passed}


def check_parity(
    model_path: Path,
    raw: pd.DataFrame,
    schema: dict,
    expected: np.ndarray,
    task: str,
    classes: Sequence[str] | None,
    rtol: float = 1e-6,
    expected_labels: np.ndarray | None = None,
) -> ParityResult:
    """Score ``raw`` (the untouched test rows) with the graph file in a fresh session.

    ``expected_labels``: the class names evaluation used (default: the argmax of
    ``expected``; binary models pass their thresholded labels)."""
    session = runtime.session(model_path)
    outputs = runtime.run(session, graph_inputs(raw, schema))
    got = scores_from_outputs(outputs, task)
    diff = np.abs(got - expected)
    rel = diff / np.maximum(np.abs(expected), 1e-12)
    agreement = 1.0
    if get_task(task).has_classes:
        if expected_labels is None:
            expected_labels = np.asarray(classes, dtype=object)[expected.argmax(axis=1)]
        agreement = float(np.mean(outputs[LABEL].astype(object) == expected_labels))
    return ParityResult(
        len(raw),
        float(diff.max(initial=0.0)),
        float(rel.max(initial=0.0)),
        agreement,
        list(session.get_providers()),
        rtol,
    )


def require_parity(result: ParityResult) -> None:
    if not result.passed:
        raise ParityError(
            f"parity gate: the exported graph disagrees with evaluation on the test split "
            f"(labels equal on {result.label_agreement:.4%} of {result.rows} rows, max relative "
            f"difference {result.max_rel_diff:.3g} > {result.rtol}); no bundle was registered"
        )
