"""The gates a model must pass: beat the baseline and, optionally, the production version,
each by a configured minimum improvement on the primary metric."""

from __future__ import annotations

from tabpipe.config.schema import EvalConfig
from tabpipe.documents.metadata import GateResult
from tabpipe.errors import BaselineGateError
from tabpipe.evaluation.metrics import improvement


def gate_results(
    metrics: dict[str, float],
    primary: str,
    prefix: str,
    eval_cfg: EvalConfig,
    production: str | None = None,
    model_is_baseline: bool = False,
) -> list[GateResult]:
    """One result per reference present in ``metrics`` (``baseline/<prefix>/<primary>``,
    ``production/<prefix>/<primary>``); ``production`` names that version for messages.

    A baseline model (``model=baseline``) has no baseline gate: it cannot beat itself, and a
    baseline run is there to be the reference, not to pass it."""
    key = f"{prefix}/{primary}"
    gates = []
    specs = [
        ("baseline", "min_improvement", "require_beat_baseline"),
        ("production", "min_improvement_over_production", "require_beat_production"),
    ]
    for reference, margin_key, switch in specs:
        other = f"{reference}/{key}"
        if other not in metrics or (reference == "baseline" and model_is_baseline):
            continue
        margin = float(getattr(eval_cfg, margin_key))
        message = (
            f"{reference} gate: {key}={metrics[key]:.6g} does not beat {other}={metrics[other]:.6g}"
            f"{f' of {production}' if reference == 'production' and production else ''} by more than "
            f"eval.{margin_key}={margin} (set eval.{switch}=false to skip the gate)"
        )
        gates.append(
            GateResult(
                reference=reference,
                metric=key,
                model=metrics[key],
                value=metrics[other],
                min_improvement=margin,
                enforced=bool(getattr(eval_cfg, switch)),
                message=message,
                passed=improvement(key.rsplit("/", 1)[-1], metrics[key], metrics[other]) > margin,
            )
        )
    return gates


def enforce(gates: list[GateResult]) -> None:
    """Raise :class:`BaselineGateError` (exit 3) for the first enforced gate that failed."""
    for gate in gates:
        if gate.enforced and not gate.passed:
            raise BaselineGateError(gate.message)
