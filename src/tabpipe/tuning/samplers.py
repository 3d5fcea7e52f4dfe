"""The sampler of a resumed study: seeded so that it continues the search.

A seeded Optuna sampler draws the same numbers in every process that builds it with that
seed. A sweep that resumes a study (after a SIGKILL, or ``n_trials`` raised to top it up)
would replay the first process's draws: its new trials would get the parameters of trials
0, 1, ... again. So a sweep process that finds trials already in storage builds its sampler
with a seed derived from ``(seed, number of trials in storage)`` instead. A new study keeps
the configured seed (a sweep run in one go is unchanged), and every later process starts
from a count the earlier ones ended above, hence a stream of its own. Samplers without a
seed draw from fresh entropy in every process and are left as they are.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tabpipe.errors import ConfigError


def derived_seed(seed: int, n_trials: int) -> int:
    """``seed`` for a new study, else a seed of its own for each count of stored trials."""
    if n_trials == 0:
        return seed
    # SeedSequence mixes both numbers into well-separated streams (neighbouring counts too)
    return int(np.random.SeedSequence([seed, n_trials]).generate_state(1)[0])


def resumed_sampler(sampler: Any, spec: dict[str, Any] | None, n_trials: int) -> tuple[Any, int | None]:
    """The sampler to use when the study already holds ``n_trials`` trials, and its seed.

    ``spec`` is ``hydra.sweeper.sampler`` (``_target_`` and arguments), from which a sampler
    with the derived seed is built; ``sampler`` (built by Hydra from it) serves a new study.
    """
    spec = spec or {}
    seed = spec.get("seed")
    if seed is None:
        return sampler, None
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"hydra.sweeper.sampler.seed={seed!r}: use a non-negative integer or null")
    if n_trials == 0:
        return sampler, seed
    from hydra.utils import instantiate

    seed = derived_seed(seed, n_trials)
    return instantiate({**spec, "seed": seed}), seed
