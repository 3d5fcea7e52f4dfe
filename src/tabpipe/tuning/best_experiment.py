"""The best trial as an experiment file: ``python train.py experiment=<study>_best``.

The file is written to ``hydra.sweeper.best_experiment_dir`` or, by default, to the
``experiment/`` group of the project's config directory
(``<project>/conf/experiment/<study>_best.yaml``, :mod:`tabpipe.config.project`), so
``experiment=<study>_best`` works at once. It is ``@package _global_`` and holds:

* ``override /<group>: <option>`` for every group the best trial used (model, features, ...);
* every value of the best trial's composed config that differs from the defaults of those
  groups: the best parameters, the search file's fixed values, the command line's values.

The sweep-only settings (``hparams_search``, ``hydra.sweeper.trial_overrides``, the trial
identity) are not in it, so the re-run is a plain run: it registers its bundle and applies
the baseline gate. The written file is composed back and compared with the best trial's
config; a difference is logged.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import optuna
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from tabpipe.io import write_text_atomic
from tabpipe.tuning.summary import BestExperiment

if TYPE_CHECKING:
    from tabpipe.tuning.sweep import OptunaSweep

log = logging.getLogger(__name__)

Path_ = tuple[str, ...]


def main_config_dir(config: DictConfig) -> Path | None:
    """The app's own config directory (Hydra's ``main`` config source), if it is on disk."""
    for source in OmegaConf.select(config, "hydra.runtime.config_sources", default=None) or []:
        if source.get("provider") == "main" and source.get("schema") == "file":
            return Path(str(source.path))
    return None


def _project_experiment_dir(main_dir: Path | None) -> Path:
    """The project's ``conf/experiment/``: the app's config directory on disk, else (packaged
    configs only) ``conf/experiment/`` under the project's root, never the installed package."""
    if main_dir is not None:
        return main_dir / "experiment"
    from tabpipe.config.project import find_project

    return find_project().root / "conf" / "experiment"


def _flatten(node: Any, prefix: Path_ = ()) -> dict[Path_, Any]:
    if isinstance(node, dict) and node:
        out: dict[Path_, Any] = {}
        for key, value in node.items():
            out |= _flatten(value, (*prefix, str(key)))
        return out
    return {prefix: node}


def _task_values(config: DictConfig) -> dict[Path_, Any]:
    container = OmegaConf.to_container(config, resolve=False, enum_to_str=True)
    container.pop("hydra", None)
    return _flatten(container)


def _nest(values: dict[Path_, Any]) -> dict[str, Any]:
    root: dict[str, Any] = {}
    for path, value in values.items():
        node = root
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = value
    return root


def _group_choices(sweep: OptunaSweep, best: DictConfig, config_name: str) -> dict[str, str]:
    """The best trial's choices for the groups that have a default (model, data, ...);
    optional groups such as experiment, debug and hparams_search enter through their values."""
    defaults = sweep.config_loader.load_configuration(config_name, [], run_mode=RunMode.RUN)
    default_choices = defaults.hydra.runtime.choices
    chosen = best.hydra.runtime.choices
    # Hydra lists choices last-loaded first; the file lists them in defaults-list order
    return {
        group: str(chosen[group])
        for group in reversed(list(default_choices))
        if "/" not in group
        and group != "hydra"
        and default_choices[group] is not None
        and chosen.get(group) is not None
    }


def _render(header: list[str], groups: dict[str, str], values: dict[Path_, Any]) -> str:
    lines = ["# @package _global_", *(f"# {line}" for line in header)]
    if groups:
        lines.append("defaults:")
        lines += [f"  - override /{group}: {choice}" for group, choice in groups.items()]
    body = OmegaConf.to_yaml(OmegaConf.create(_nest(values))) if values else ""
    return "\n".join(lines) + "\n\n" + body


def _command(stem: str, extra: str = "") -> str:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "train.py"
    runner = f"python {program}" if program.endswith(".py") else program
    return f"{runner} experiment={stem}{extra}"


def write_best_experiment(
    sweep: OptunaSweep, study: optuna.Study, best: optuna.trial.FrozenTrial
) -> BestExperiment | None:
    """Write ``<study>_best.yaml``; returns its path and the command that uses it."""
    if "experiment" not in sweep.config.hydra.runtime.choices:
        log.info("the app's defaults list has no `optional experiment`: no best-params experiment written")
        return None
    main_dir = main_config_dir(sweep.config)
    configured = sweep.options.best_experiment_dir
    directory = Path(configured) if configured else _project_experiment_dir(main_dir)
    config_name = str(sweep.config.hydra.job.config_name)
    best_config = sweep.config_loader.load_sweep_config(sweep.config, sweep.space.overrides(best.params))
    groups = _group_choices(sweep, best_config, config_name)
    base = sweep.config_loader.load_configuration(
        config_name, [f"{g}={c}" for g, c in groups.items()], run_mode=RunMode.RUN
    )
    wanted, defaults = _task_values(best_config), _task_values(base)
    values = {
        path: value for path, value in wanted.items() if path not in defaults or defaults[path] != value
    }
    stem = f"{study.study_name}_best"
    header = [
        f"Best trial of Optuna study {study.study_name!r}: trial {best.number}, "
        f"{sweep.optimized_metric or 'objective'} = {best.value:.6g}",
        f"written by the tabpipe sweeper from {sweep.location}",
        f"  {_command(stem)}",
    ]
    path = write_text_atomic(directory / f"{stem}.yaml", _render(header, groups, values))
    searchpath = ""
    if main_dir is not None and directory.resolve() == (main_dir / "experiment").resolve():
        _verify(sweep, config_name, stem, wanted)
    else:
        searchpath = f" 'hydra.searchpath=[file://{directory.resolve().parent}]'"
    return BestExperiment(file=str(path), command=_command(stem, searchpath))


def _verify(sweep: OptunaSweep, config_name: str, stem: str, wanted: dict[Path_, Any]) -> None:
    """Compose ``experiment=<stem>`` and compare it with the best trial's config."""
    composed = sweep.config_loader.load_configuration(
        config_name, [f"experiment={stem}"], run_mode=RunMode.RUN
    )
    got = _task_values(composed)
    differing = sorted(".".join(p) for p in set(got) | set(wanted) if got.get(p) != wanted.get(p))
    if differing:
        log.warning(
            "experiment=%s differs from the best trial's config at: %s", stem, ", ".join(differing[:5])
        )
