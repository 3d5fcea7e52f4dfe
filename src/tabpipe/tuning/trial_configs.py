"""Hydra's config loader for a sweep's trial jobs: the defaults are composed once per sweep.

A launcher composes every job's config from scratch (``load_sweep_config``): the defaults
tree, every config file and the schemas, about 0.2 s a trial here. Trials differ only in the
sampled parameters and a few per-trial keys (``hydra.sweep.subdir``, ``optuna.trial_number``,
``tracking.run_name``), which are plain values. Hydra itself applies such value overrides
*after* composing the defaults (``ConfigLoaderImpl._apply_overrides_to_config``), so this
loader composes the config once without them (the template) and applies them to a copy.

It falls back to a full composition for anything else: a varying key that names a config
group (``model: choice(xgb, lgbm)``), a package override, or a key that another override
also sets (itself, a key below it or one above it). The launcher pickles its context to
joblib workers, so the template (built in the sweep process before the first launch)
travels with it. ``tests/unit/test_sweep_configs.py`` checks that both paths give the same
config.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from hydra._internal.config_loader_impl import ConfigLoaderImpl, get_overrides_dirname
from hydra.core.config_loader import ConfigLoader
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import Override
from omegaconf import DictConfig, OmegaConf, open_dict

# templates kept (a sweep needs one; the best-params experiment composes another)
MAX_TEMPLATES = 4


class TrialConfigLoader(ConfigLoader):
    def __init__(self, inner: ConfigLoader) -> None:
        self.inner = inner
        self.varying: frozenset[str] = frozenset()
        self.templates: dict[tuple[str, ...], DictConfig] = {}
        self.parsed: dict[str, Override] = {}
        self.groups: dict[str, bool] = {}

    def vary(self, keys: Iterable[str]) -> None:
        """Add override keys whose values change from trial to trial (``+key``: ``key``)."""
        self.varying |= frozenset(key.lstrip("+~") for key in keys)

    # ---- the trial path ------------------------------------------------------------------------
    def _parse(self, lines: list[str]) -> list[Override]:
        """Hydra's override parser, one line at a time, remembering the lines it has seen (it
        takes about a millisecond a line, and most lines are the same in every trial)."""
        parser = None
        for line in lines:
            if line not in self.parsed:
                parser = parser or OverridesParser.create()
                self.parsed[line] = parser.parse_overrides([line])[0]
        return [self.parsed[line] for line in lines]

    def load_sweep_config(self, master_config: DictConfig, sweep_overrides: list[str]) -> DictConfig:
        parsed = self._parse(list(sweep_overrides))
        varying = [o for o in parsed if o.key_or_group in self.varying]
        fixed = tuple(o.input_line for o in parsed if o.key_or_group not in self.varying)
        if not varying or not self._plain_values(varying, parsed):
            return self.inner.load_sweep_config(master_config, list(sweep_overrides))
        template = self.templates.get(fixed)
        if template is None:
            if len(self.templates) >= MAX_TEMPLATES:
                self.templates.pop(next(iter(self.templates)))
            template = self.templates[fixed] = self.inner.load_sweep_config(master_config, list(fixed))
        config = copy.deepcopy(template)
        ConfigLoaderImpl._apply_overrides_to_config(varying, config)
        _record_overrides(config, master_config, parsed)
        OmegaConf.copy_cache(from_config=master_config, to_config=config)
        return config

    def _plain_values(self, varying: list[Override], parsed: list[Override]) -> bool:
        """Values that commute with the other overrides: no group, package or sweep, and no
        other override of the same key, of a key below it or of one above it."""
        keys = [o.key_or_group for o in parsed]

        def overlaps(key: str) -> bool:
            return sum(k == key or k.startswith(f"{key}.") or key.startswith(f"{k}.") for k in keys) > 1

        return all(
            o.package is None
            and not o.is_sweep_override()
            and not overlaps(o.key_or_group)
            and not self._is_group(o.key_or_group)
            for o in varying
        )

    def _is_group(self, key: str) -> bool:
        """Asked of the config sources once per key (a file-system lookup each time)."""
        if key not in self.groups:
            repository = getattr(self.inner, "repository", None)
            # a loader that cannot tell: compose in full
            self.groups[key] = repository is None or bool(repository.group_exists(key.replace(".", "/")))
        return self.groups[key]

    # ---- everything else is Hydra's -------------------------------------------------------------
    def load_configuration(self, *args: Any, **kwargs: Any) -> DictConfig:
        return self.inner.load_configuration(*args, **kwargs)

    def get_search_path(self) -> Any:
        return self.inner.get_search_path()

    def get_sources(self) -> Any:
        return self.inner.get_sources()

    def list_groups(self, parent_name: str) -> list[str]:
        return self.inner.list_groups(parent_name)

    def get_group_options(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.inner.get_group_options(*args, **kwargs)

    def compute_defaults_list(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.compute_defaults_list(*args, **kwargs)


def _record_overrides(config: DictConfig, master_config: DictConfig, parsed: list[Override]) -> None:
    """What Hydra records of a job's overrides: ``hydra.overrides`` and ``override_dirname``."""
    hydra_lines = [o.input_line for o in parsed if o.is_hydra_override()]
    app = [o for o in parsed if not o.is_hydra_override()]
    dirname = config.hydra.job.config.override_dirname
    with open_dict(config.hydra):
        config.hydra.overrides.hydra = [*master_config.hydra.overrides.hydra, *hydra_lines]
        config.hydra.overrides.task = [o.input_line for o in app]
        config.hydra.job.override_dirname = get_overrides_dirname(
            overrides=app,
            kv_sep=dirname.kv_sep,
            item_sep=dirname.item_sep,
            exclude_keys=dirname.exclude_keys,
        )
