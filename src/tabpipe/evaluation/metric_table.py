"""The metric table a person reads: one line per metric of the evaluated rows, next to the
baseline (and the production version when it was compared), the primary metric marked.

``python train.py`` logs these lines after a run; ``tabpipe eval`` prints the same lines
(``--json`` prints the metrics for machines instead).
"""

from __future__ import annotations


def metric_table(
    metrics: dict[str, float], primary: str, prefix: str = "test", n_folds: int = 1
) -> list[str]:
    """The lines for the ``<prefix>/…`` metrics; k-fold runs show ``± std`` over their folds."""
    suffix = f" (mean ± std over {n_folds} folds)" if n_folds > 1 else ""
    lines = [f"{prefix} metrics{suffix}:"]
    keys = sorted(k for k in metrics if k.startswith(f"{prefix}/") and not k.endswith("_std"))
    for key in keys:
        std = metrics.get(f"{key}_std")
        spread = f" ± {std:.4f}" if std is not None else ""
        references = [
            f"{name} {metrics[f'{name}/{key}']:.4f}"
            for name in ("baseline", "production")
            if f"{name}/{key}" in metrics
        ]
        compared = f"   ({', '.join(references)})" if references else ""
        marker = "  <- primary" if key == f"{prefix}/{primary}" else ""
        lines.append(f"  {key:<18} {metrics[key]:.4f}{spread}{compared}{marker}")
    return lines
