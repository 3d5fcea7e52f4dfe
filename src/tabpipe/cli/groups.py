"""The command line's config: overrides checked (parse, compose) before Hydra runs, ``--help``
with each group's options (:mod:`tabpipe.config.groups`), and the composition of the commands
other than train."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tabpipe.config.groups import group_options
from tabpipe.config.project import find_project, initialize_hydra
from tabpipe.errors import ConfigError, first_line

# Hydra's flags that take a value (`--cfg job`, `-cn train`); `--info` takes an optional one
_FLAGS_WITH_VALUE = {
    *("-c", "--cfg", "-p", "--package", "--experimental-rerun"),
    *("-cp", "--config-path", "-cn", "--config-name", "-cd", "--config-dir"),
}
_INFO_VALUES = {"all", "config", "defaults", "defaults-tree", "plugins", "searchpath"}


def override_args(args: list[str]) -> list[str]:
    """The ``key=value`` overrides among ``args`` (flags and their values left out); a bare
    word that is not a flag's value (``model.max_depth``) is a :class:`ConfigError`."""
    overrides, previous = [], ""
    for arg in args:
        flag_value = previous in _FLAGS_WITH_VALUE or (previous in ("-i", "--info") and arg in _INFO_VALUES)
        previous = arg
        if arg.startswith("-") or flag_value:
            continue
        if "=" not in arg and not arg.startswith("~"):
            raise ConfigError(f"{arg}: not a key=value override; give it a value ({arg}=...)")
        overrides.append(arg)
    return overrides


def check_overrides_parse(overrides: list[str]) -> None:
    """A malformed ``key=value`` (``'model.max_depth=range(3,'``, ``=3``) -> one line naming
    it, also for multirun sweeps, which :func:`check_composes` may leave to the jobs."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for override in override_args(overrides):
        try:
            parsed = parser.parse_override(override)
        except HydraException as exc:
            raise ConfigError(f"{override}: malformed override: {first_line(exc)}") from exc
        if not parsed.key_or_group:
            raise ConfigError(f"{override}: an override needs a key (key=value)")


def sweep_overrides(overrides: list[str]) -> list[str]:
    """The sweep overrides among ``overrides`` (``seed=0,1,2``, ``model.max_depth=range(3,9)``)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    return [o for o in overrides if parser.parse_override(o).is_sweep_override()]


def check_composes(overrides: list[str], config_name: str = "train") -> None:
    """Compose once up front so a bad key or value fails with one line naming it: unknown
    keys (with the closest valid one), required values, interpolations, ranges, and the
    sweeper's own ranges (``hydra.sweeper.n_trials=-5``).

    A multirun whose command line sweeps (``seed=0,1,2``) composes one config per job, so
    each job checks its own (:func:`tabpipe.cli.train.main`); here only the sweeper's
    settings are checked, on a composition without the swept keys. Other config files
    (``-cn``/``-cp``/``-cd``) are left to Hydra.
    """
    from hydra import compose
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from tabpipe.config.checks import config_problems, describe, sweeper_problems

    skip = {"-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir"}
    plain = override_args(overrides)
    if skip.intersection(overrides):
        return
    swept = sweep_overrides(plain)
    fixed = [o for o in plain if o not in swept]
    try:
        with initialize_hydra(find_project()):
            cfg = compose(config_name, overrides=fixed, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as exc:
        if swept:
            return  # without its swept keys the config may not compose: each job reports its own
        raise ConfigError(describe(exc)) from exc
    problems = sweeper_problems(cfg) if swept else config_problems(cfg, plain) + sweeper_problems(cfg)
    if problems:
        raise ConfigError("\n".join(problems))


def help_text(program: str, recipes: str) -> str:
    lines = [recipes.strip(), "", "Config groups (pick one with group=option):"]
    for group, names in group_options().items():
        lines.append(f"  {group:<11} {', '.join(names)}")
    lines += [
        "",
        "Any key can be overridden: model.max_depth=4 trainer.max_epochs=20 seed=7.",
        f"Print the composed config: {program} --cfg job.  Hydra's own flags: --hydra-help.",
        "The project (its conf/ first, its root for every output): --project DIR, TABPIPE_PROJECT,",
        "else the nearest directory upward with conf/train.yaml or tabpipe.yaml, else this one.",
        "Exit codes: 0 ok, 2 bad config or data, 3 model did not beat the baseline,",
        "4 requested device unavailable, 5 exported graph failed the parity gate.",
    ]
    return "\n".join(lines)


def compose_app_config(config_name: str, overrides: list[str]) -> Any:
    """Compose ``<config_name>.yaml`` (the project's, else the packaged one) with ``key=value``
    overrides, resolved; one-line :class:`ConfigError` on a bad key, value or missing required key."""
    from hydra import compose
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from tabpipe.config.checks import config_problems, describe
    from tabpipe.config.store import register_configs

    register_configs()
    check_overrides_parse(list(overrides))
    try:
        with initialize_hydra(find_project()):
            cfg = compose(config_name, overrides=list(overrides))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(describe(exc)) from exc
    problems = config_problems(cfg, overrides)
    if problems:
        raise ConfigError("\n".join(problems))
    OmegaConf.resolve(cfg)
    return cfg


def run_app_command(doc: str, config_name: str, argv: list[str], action: Callable[[Any], None]) -> None:
    """``--help`` prints ``doc``; ``--cfg job`` prints the composed config; otherwise
    compose ``conf/<config_name>.yaml`` with ``argv`` and run ``action(cfg)``, ``cfg`` typed
    by the command's schema (:data:`~tabpipe.config.app_schema.APP_SCHEMAS`). A
    :class:`TabpipeError` becomes one ``error:`` line per problem and its exit code."""
    from omegaconf import OmegaConf

    from tabpipe.cli import fail
    from tabpipe.config.app_schema import APP_SCHEMAS
    from tabpipe.config.typed import to_typed
    from tabpipe.errors import TabpipeError

    if any(flag in argv for flag in ("-h", "--help")):
        print(doc)
        return
    try:
        overrides, show = _app_flags(argv)
        cfg = compose_app_config(config_name, overrides)
        if show:
            print(OmegaConf.to_yaml(_redacted(OmegaConf.to_container(cfg))), end="")
            return
        action(to_typed(cfg, APP_SCHEMAS[config_name]))
    except TabpipeError as error:
        fail(error)


_SECRET_SUFFIXES = ("token", "secret", "password", "key")


def _redacted(node: Any) -> Any:
    """``node`` with the values of secret keys (``admin_token``, ...) replaced."""
    if isinstance(node, dict):
        return {
            k: "<redacted>" if v is not None and str(k).endswith(_SECRET_SUFFIXES) else _redacted(v)
            for k, v in node.items()
        }
    return [_redacted(v) for v in node] if isinstance(node, list) else node


def _app_flags(argv: list[str]) -> tuple[list[str], bool]:
    """``(overrides, print the config?)``: ``--cfg job`` (or ``-c job``) is the only flag of
    the commands other than train."""
    overrides, show, args = [], False, iter(argv)
    for arg in args:
        if arg in ("--cfg", "-c"):
            value = next(args, "")
            if value != "job":
                shown = f"{arg} {value}".strip()
                raise ConfigError(f"{shown}: only `{arg} job` is supported (it prints the composed config)")
            show = True
        elif arg.startswith("-"):
            raise ConfigError(f"{arg}: unknown option; options are key=value overrides, --cfg job and --help")
        else:
            overrides.append(arg)
    return overrides, show
