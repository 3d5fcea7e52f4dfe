"""The search space: ``hydra.sweeper.params`` plus the command line's overrides, parsed with
Hydra's override grammar into Optuna distributions and fixed overrides.

The semantics are the official hydra-optuna-sweeper's, so its search files keep working:

* ``choice(a, b, c)`` -> ``CategoricalDistribution``
* ``range(lo, hi[, step])`` -> ``IntDistribution(lo, hi, step)`` (``FloatDistribution`` when a
  bound or the step is a float); ``hi`` is *included*, as in the official plugin;
  ``shuffle(range(...))`` -> a categorical over its values
* ``interval(lo, hi)`` -> ``FloatDistribution(lo, hi)``; ``tag(log, ...)`` samples on a log
  scale. Hydra parses ``interval`` bounds as floats, so ``tag(int, interval(3, 10))`` asks
  for integers.
* any other value is a fixed override passed to every trial.

A later entry for the same key wins: a sweep or a value on the command line replaces the
search file's entry (``model.n_estimators=50`` pins a parameter the file searches).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import (
    ChoiceSweep,
    IntervalSweep,
    Override,
    RangeSweep,
    Transformer,
)
from hydra.errors import HydraException
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
)

from tabpipe.errors import ConfigError, first_line

TAGS = ("log", "int")


@dataclass
class SearchSpace:
    """Distributions by parameter name (the override key) and fixed overrides by key."""

    distributions: dict[str, BaseDistribution]
    fixed: dict[str, str]

    def overrides(self, params: Mapping[str, Any]) -> list[str]:
        """The fixed overrides, then one ``key=value`` per sampled parameter."""
        sampled = [f"{name}={format_value(value)}" for name, value in params.items()]
        return [*self.fixed.values(), *sampled]

    def signature(self) -> dict[str, str]:
        """What a study records to detect a changed search space on resume."""
        return {name: distribution_to_json(d) for name, d in sorted(self.distributions.items())}

    def sample(self) -> dict[str, Any]:
        """One value per parameter (the first choice or the low bound), to test-compose."""
        out: dict[str, Any] = {}
        for name, dist in self.distributions.items():
            out[name] = dist.choices[0] if isinstance(dist, CategoricalDistribution) else dist.low
        return out


def format_value(value: Any) -> str:
    """A sampled value as Hydra override text (choices are stored override-ready)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def param_lines(params: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """``hydra.sweeper.params`` as ``(origin, "key=value")`` lines, read as the official plugin does."""
    lines = []
    for key, value in (params or {}).items():
        if value is None:
            text = "null"
        elif isinstance(value, bool):
            text = format_value(value)
        else:
            text = str(value)
        lines.append((f"hydra.sweeper.params.{key}", f"{key}={text}"))
    return lines


def build_search_space(params: Mapping[str, Any] | None, arguments: Iterable[str]) -> SearchSpace:
    """Parse the search file's ``params`` and then the command line's task overrides.

    Raises :class:`ConfigError` (one line naming the entry) for a malformed expression, an
    unsupported sweep, an invalid distribution, or an empty search space.
    """
    lines = [*param_lines(params), *((f"command line {arg!r}", arg) for arg in arguments)]
    parser = OverridesParser.create()
    distributions: dict[str, BaseDistribution] = {}
    fixed: dict[str, str] = {}
    for origin, line in lines:
        try:
            override = parser.parse_override(line)
        except HydraException as exc:
            reason = first_line(exc, type(exc).__name__)
            raise ConfigError(f"{origin}: malformed sweep expression: {reason}") from exc
        name = override.get_key_element()
        distributions.pop(name, None)
        fixed.pop(name, None)
        if override.is_sweep_override():
            distributions[name] = to_distribution(override, origin)
        else:
            fixed[name] = line
    if not distributions:
        raise ConfigError(
            "hydra.sweeper.params: empty search space; give at least one parameter as "
            "choice(...), range(...) or interval(...)"
        )
    return SearchSpace(distributions, fixed)


def to_distribution(override: Override, origin: str) -> BaseDistribution:
    value = override.value()
    if not isinstance(value, ChoiceSweep | RangeSweep | IntervalSweep):
        raise ConfigError(f"{origin}: {type(value).__name__} is not supported; use choice, range or interval")
    unknown = sorted(set(value.tags) - set(TAGS))
    if unknown:
        raise ConfigError(f"{origin}: unknown tag {unknown[0]!r}; supported tags: {', '.join(TAGS)}")
    log = "log" in value.tags
    try:
        if isinstance(value, ChoiceSweep):
            return CategoricalDistribution(
                _choices(override.sweep_iterator(transformer=Transformer.identity))
            )
        if isinstance(value, RangeSweep):
            return _range_distribution(override, value, log)
        return _interval_distribution(value, log)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {first_line(exc, type(exc).__name__)}") from exc


def _choices(values: Iterable[Any]) -> list[Any]:
    # numbers and booleans stay native (Optuna orders them); everything else is stored as
    # override text, so lists and quoted strings go back to Hydra unchanged
    return [v if isinstance(v, int | float | bool) else Transformer.str(v) for v in values]


def _range_distribution(override: Override, value: RangeSweep, log: bool) -> BaseDistribution:
    if value.shuffle:
        # sorted: the shuffled order would change the study's search space on every run
        return CategoricalDistribution(
            _choices(sorted(override.sweep_iterator(transformer=Transformer.identity)))
        )
    bounds = (value.start, value.stop, value.step)
    if any(isinstance(b, float) for b in bounds):
        step = None if log else float(value.step)
        return FloatDistribution(float(value.start), float(value.stop), step=step, log=log)
    return IntDistribution(int(value.start), int(value.stop), step=int(value.step), log=log)


def _interval_distribution(value: IntervalSweep, log: bool) -> BaseDistribution:
    start, end = value.start, value.end
    if "int" in value.tags:
        if float(start) != int(start) or float(end) != int(end):
            raise ValueError(f"tag(int, ...) needs whole-number bounds, got interval({start}, {end})")
        return IntDistribution(int(start), int(end), log=log)
    if isinstance(start, int) and isinstance(end, int):
        return IntDistribution(start, end, log=log)
    return FloatDistribution(float(start), float(end), log=log)


def describe(space: SearchSpace) -> str:
    """One line per parameter, for the log."""
    return "\n".join(
        f"  {name}: {json.loads(distribution_to_json(d))['name']} {_bounds(d)}"
        for name, d in space.distributions.items()
    )


def _bounds(dist: BaseDistribution) -> str:
    if isinstance(dist, CategoricalDistribution):
        return str(list(dist.choices))
    scale = ", log" if dist.log else ""
    step = f", step {dist.step}" if dist.step is not None else ""
    return f"[{dist.low}, {dist.high}{step}{scale}]"
