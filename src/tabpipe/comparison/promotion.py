"""``tabpipe registry promote ... --require-significant``: an alias moves to a version only
when that version is significantly better than the alias's current holder.

"Significantly better" means the paired bootstrap CI (:mod:`tabpipe.comparison.compare`,
default 95%, 2000 resamples, seed 0) of the primary metric's improvement, candidate over
holder on the rows both held out, lies entirely above 0. The comparison is recorded with
the move in ``alias_history.jsonl``; a refusal is one line and exit code 3.
"""

from __future__ import annotations

from typing import Any

from tabpipe.comparison.document import SignificanceRecord
from tabpipe.errors import SignificanceGateError


def significance_record(
    registry: Any, name: str, version: int, alias: str, metric: str | None = None
) -> SignificanceRecord:
    """The comparison to record with the move; raises :class:`SignificanceGateError` when
    ``name:version`` is not significantly better than the current holder of ``alias``."""
    from tabpipe.comparison.compare import compare

    holder = registry.aliases(name).get(alias)
    if holder is None:
        return SignificanceRecord(holder=None, result=f"{name}@{alias} had no holder; nothing to beat")
    if holder == version:
        raise SignificanceGateError(f"{name}@{alias} already points to version {version}; nothing to promote")
    result = compare(f"{name}:{holder}", f"{name}:{version}", str(registry.root), metric)
    estimate, low, high = result.improvement_ci()
    boot = result.bootstrap
    record = SignificanceRecord(
        holder=holder,
        metric=result.metric,
        holder_value=result.metrics.a[result.metric],
        candidate_value=result.metrics.b[result.metric],
        improvement=estimate,
        ci=(low, high),
        confidence=boot.confidence,
        n_resamples=boot.n_resamples,
        seed=boot.seed,
        rows=result.rows,
        significant=low > 0,
    )
    if result.mcnemar:
        record.mcnemar_p_value = result.mcnemar.p_value
    if not low > 0:
        level = round(100 * boot.confidence)
        raise SignificanceGateError(
            f"promote refused: {name}:{version} is not significantly better than {name}@{alias} "
            f"({name}:{holder}) on {result.metric}: improvement {estimate:+.4f}, {level}% CI "
            f"[{low:+.4f}, {high:+.4f}] does not lie above 0 (--require-significant)"
        )
    return record
