"""The evaluation's schemas: the root ``eval`` key of training (``eval.*``) and of
``tabpipe eval``. Re-exported by :mod:`tabpipe.config.schema`.

Every field has an attribute docstring (the string under it): its description in the
generated configuration reference; a field without one fails the docs build and a unit test.

OmegaConf needs ``typing.Optional``/``List`` here, not PEP 604 unions.
"""

from dataclasses import dataclass, field
from enum import Enum
from typing import List, Optional

from tabpipe.config.bounds import AtLeastOne, Fraction, Probability


class ThresholdStrategy(str, Enum):
    default = "default"
    f1 = "f1"
    cost = "cost"


@dataclass
class CostMatrixConfig:
    """The cost of each outcome of one row (binary); a benefit is a negative cost."""

    tp: float = 0.0
    """Cost of a true positive."""
    fp: float = 1.0
    """Cost of a false positive."""
    fn: float = 1.0
    """Cost of a false negative."""
    tn: float = 0.0
    """Cost of a true negative."""


@dataclass
class ThresholdConfig:
    """The decision threshold of a binary model, chosen on the validation split, then applied
    by the graph's ``label`` output."""

    strategy: ThresholdStrategy = ThresholdStrategy.default
    """default: the fixed ``default`` below; f1: the F1-optimal threshold; cost: the cheapest
    under ``cost``."""
    default: Probability = 0.5
    """The threshold of ``strategy=default``."""
    cost: CostMatrixConfig = field(default_factory=CostMatrixConfig)
    """The outcome costs that ``strategy=cost`` minimises."""


class TimePeriod(str, Enum):
    month = "month"
    week = "week"
    none = "none"


@dataclass
class SegmentsConfig:
    """Metrics per segment: per value of each ``data.group_columns`` entry, and per period of
    ``data.time_column``."""

    enabled: bool = True
    """Compute the segment metrics (segments.json, the report's table)."""
    time_period: TimePeriod = TimePeriod.month
    """The period of the ``data.time_column`` segments (none: no time segments)."""
    min_rows: AtLeastOne = 30
    """Segments with fewer rows are reported but never flagged."""
    min_queries: AtLeastOne = 5
    """task=ranking: segments with fewer ranked queries are reported but never flagged (the
    bootstrap resamples queries)."""
    max_segments: AtLeastOne = 20
    """Per column, the largest segments only."""
    n_bootstrap: AtLeastOne = 200
    """Bootstrap resamples of each segment's confidence interval."""
    confidence: Fraction = 0.95
    """The confidence level of the segment intervals."""


@dataclass
class ImportanceConfig:
    """Permutation importance of the raw input columns, computed on the graph."""

    permutation: bool = True
    """Compute it (importance.json, recorded in the bundle)."""
    max_rows: AtLeastOne = 2000
    """Test rows used at most (a sample when there are more)."""
    n_repeats: AtLeastOne = 3
    """Permutations per column."""


@dataclass
class EvalConfig:
    """What evaluation computes on the test split, and the gates a model must pass."""

    require_beat_baseline: bool = True
    """Fail the run (exit 3) when the model does not beat the baseline by ``min_improvement``."""
    primary_metric: Optional[str] = None
    """The gates' and the summary's metric; null: the task's default (binary auc, multiclass
    f1_macro, regression rmse, ranking ndcg@<largest ranking_k>)."""
    min_improvement: float = 0.0
    """The model must beat the baseline by at least this much on the primary metric."""
    production_alias: Optional[str] = "production"
    """Compare with the registry's version of the same name under this alias (same rows);
    null: no comparison."""
    require_beat_production: bool = False
    """Fail the run (exit 3) when the model does not beat the ``production_alias`` version by
    ``min_improvement_over_production``."""
    min_improvement_over_production: float = 0.0
    """The margin of ``require_beat_production``, on the primary metric."""
    calibration_bins: AtLeastOne = 10
    """Bins of the calibration curve and of the expected calibration error."""
    ranking_k: Optional[List[int]] = field(default_factory=lambda: [5, 10])
    """task=ranking: the cut-offs of ndcg@k and map@k (primary default: ndcg@<largest k>);
    ``tabpipe eval`` reads null as the bundle's recorded cut-offs."""
    threshold: ThresholdConfig = field(default_factory=ThresholdConfig)
    """The decision threshold (binary)."""
    plots: bool = True
    """PNG plots and DVC plot data in <run_dir>/plots/, report.md, segments.json."""
    max_plot_points: AtLeastOne = 5000
    """Points per plotted curve at most (DVC plot data included)."""
    importance: ImportanceConfig = field(default_factory=ImportanceConfig)
    """Permutation importance of the input columns."""
    segments: SegmentsConfig = field(default_factory=SegmentsConfig)
    """Metrics per segment."""
