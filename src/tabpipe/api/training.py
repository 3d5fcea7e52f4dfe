"""``tabpipe.train``: one training run from Python, composed and recorded as ``tabpipe train``.

The overrides go through the CLI's own checks (group options, parse, compose: the same
one-line errors), then Hydra runs the job as ``python train.py`` does: the same run
directory (``logs/train/runs/<time>/`` with ``.hydra/`` and ``train.log``), the same
``metadata.json`` (its ``hydra.overrides`` are what ``tabpipe reproduce`` replays) and the
same registration.

Hydra's only public way to run a job is ``hydra.main``, which reads ``sys.argv`` and exits the
process on an error; so the job runs through ``Hydra.run`` (what ``hydra.main`` calls), on a
search path built as ``hydra.main`` builds it (:func:`_hydra`), with Hydra 1.3's internals
pinned by ``requirements/constraints.txt``.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tabpipe.api.overrides import Overrides, override_list
from tabpipe.config.project import ENV as PROJECT_ENV
from tabpipe.config.project import Project, config_search_path, find_project
from tabpipe.errors import ConfigError

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from tabpipe.api.bundle import Bundle
    from tabpipe.config.schema import TrainConfig

log = logging.getLogger("tabpipe")


@dataclass
class Run:
    """A finished training run.

    Attributes:
        metrics: every metric of the run (``test/auc``, ``val/auc``, ``baseline/test/auc``, ...).
        run_dir: the run directory (config, plots, report, ``metadata.json``, ``bundle/``).
        config: the composed, validated config of the run.
        registered: the registry ref (``name:version``) the run registered, else None.
        registry_root: the registry it registered in, else None.
    """

    metrics: dict[str, float]
    run_dir: Path
    config: TrainConfig
    registered: str | None = None
    registry_root: Path | None = None
    _bundle: Bundle | None = field(default=None, init=False, repr=False)

    @property
    def bundle(self) -> Bundle | None:
        """The run's bundle (its registered version when it registered one); None for a
        k-fold run or ``export.onnx=false``, which export no bundle."""
        from tabpipe.api.bundle import load_bundle

        if self._bundle is None:
            if self.registered and self.registry_root is not None:
                self._bundle = load_bundle(self.registered, registry=self.registry_root)
            elif (self.run_dir / "bundle").is_dir():
                self._bundle = load_bundle(self.run_dir / "bundle")
        return self._bundle


def _check_single_run(args: list[str]) -> None:
    """Only ``key=value`` overrides of one run (no CLI flags, no multirun sweeps)."""
    from tabpipe.cli.groups import check_overrides_parse, sweep_overrides

    for arg in args:
        if arg.startswith("-"):
            raise ConfigError(f"{arg}: not an override; tabpipe.train takes key=value overrides only")
    check_overrides_parse(args)
    swept = sweep_overrides(args)
    if swept:
        raise ConfigError(
            f"{swept[0]}: a sweep; tabpipe.train runs one job (run a sweep with `tabpipe train -m`)"
        )


@contextmanager
def project_environment(project: Project | None) -> Iterator[None]:
    """For the call, what ``tabpipe train --project <dir>`` sets for its process:
    ``$TABPIPE_PROJECT``, the project's absolute path (the CLI's checks, the run's
    ``paths.root_dir`` and ``tabpipe reproduce`` find the project through it); restored
    afterwards. Relative paths in overrides stay relative to the working directory, as on
    the command line."""
    if project is None:
        yield
        return
    saved = os.environ.get(PROJECT_ENV)
    os.environ[PROJECT_ENV] = str(project.root)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(PROJECT_ENV, None)
        else:
            os.environ[PROJECT_ENV] = saved


@contextmanager
def _hydra(primary: str, job_name: str) -> Iterator[Any]:
    """Hydra initialized on the project's ``primary`` config source as ``hydra.main`` would
    be (the ``tabpipe_configs`` plugin appends the packaged defaults behind it).
    Afterwards the previous global state is back: Hydra's (its ``run_job`` itself restores
    the HydraConfig, so a later plain ``compose()`` is not taken for this job), and the root
    logger's handlers and level (the job's console and ``<run>/train.log`` handlers closed),
    which Hydra leaves configured for the job."""
    from hydra._internal.hydra import Hydra
    from hydra._internal.utils import create_config_search_path
    from hydra.initialize import get_gh_backup, restore_gh_from_backup

    backup = get_gh_backup()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    csp = create_config_search_path(primary)  # + the plugins' entries, then the schemas
    try:
        yield Hydra.create_main_hydra2(task_name=job_name, config_search_path=csp)
    finally:
        restore_gh_from_backup(backup)
        for handler in root.handlers:
            if handler not in handlers:
                handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)


def _job(cfg: DictConfig) -> Any:
    """The job Hydra runs: the CLI's per-job checks, then the training run. A refusal is
    returned (and logged to the run's log, as the CLI does), not raised, so that Hydra does
    not print its own line about it; :func:`train` raises it."""
    from tabpipe.cli.train import check_job
    from tabpipe.config.schema import TrainConfig
    from tabpipe.config.typed import to_typed
    from tabpipe.errors import TabpipeError
    from tabpipe.log_routing import FILE_ONLY
    from tabpipe.training.train import run_training

    try:
        check_job(cfg)
        return run_training(cfg), to_typed(cfg, TrainConfig)
    except TabpipeError as error:
        log.error("%s", error, extra=FILE_ONLY)
        return error


def train(overrides: Overrides = (), project: str | Path | None = None) -> Run:
    """Train, evaluate, export and register a model, exactly as ``tabpipe train`` would.

    Args:
        overrides: Hydra overrides, as on the command line (``["model=lgbm", "seed=7"]``)
            or as a mapping (``{"model": "lgbm", "model.n_estimators": 50}``).
        project: the project directory whose ``conf/`` and outputs to use, as
            ``tabpipe train --project <dir>``. Default: found as the CLI finds it
            (``$TABPIPE_PROJECT``, else upward from the working directory).

    Returns:
        The finished :class:`Run`: its metrics, run directory, config and bundle.

    Raises:
        tabpipe.errors.ConfigError: a bad override (the CLI's one-line message).
        tabpipe.errors.DataValidationError: data that breaks a rule (one line per rule).
        tabpipe.errors.BaselineGateError: the model did not beat the baseline.
        tabpipe.errors.TabpipeError: any other refusal of the run (parity, device, ...).
    """
    from tabpipe.cli.groups import check_composes
    from tabpipe.config.groups import check_group_choices
    from tabpipe.config.store import register_configs

    args = override_list(overrides)
    found = find_project(project)
    with project_environment(found if project is not None else None):
        register_configs()
        check_group_choices(args)
        _check_single_run(args)
        check_composes(args)
        with _hydra(config_search_path(found)[0], "train") as hydra:
            outcome = hydra.run(config_name="train", task_function=_job, overrides=args).return_value
        if isinstance(outcome, BaseException):
            raise outcome
        result, cfg = outcome
        registered = result.registered
        return Run(
            metrics=dict(result.metrics),
            run_dir=Path(result.output_dir).resolve(),
            config=cfg,
            registered=f"{registered['name']}:{registered['version']}" if registered else None,
            registry_root=Path(registered["root"]).resolve() if registered else None,
        )
