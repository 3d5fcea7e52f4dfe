"""Config groups read from ``conf/`` directly: for ``--help`` and early option checks."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tabpipe.errors import ConfigError

GROUPS = (
    "data",
    "features",
    "split",
    "model",
    "trainer",
    "logger",
    "callbacks",
    "paths",
    "hydra",
    "experiment",
    "hparams_search",
    "debug",
)


def conf_dir() -> Path:
    """``$TABPIPE_CONF_DIR``, else the project's ``conf/`` (the repository root)."""
    override = os.environ.get("TABPIPE_CONF_DIR")
    return Path(override) if override else Path(__file__).resolve().parents[3] / "conf"


def group_options(root: Path | None = None) -> dict[str, list[str]]:
    root = root or conf_dir()
    return {
        group: sorted(p.stem for p in (root / group).glob("*.yaml"))
        for group in GROUPS
        if (root / group).is_dir()
    }


def check_group_choices(overrides: list[str], root: Path | None = None) -> None:
    """``model=nope`` -> one line naming the group and its available options."""
    options = group_options(root)
    for override in overrides:
        key, sep, value = override.lstrip("+~").partition("=")
        if not sep or key not in options or not value or value == "null":
            continue
        if "(" in value:  # a sweep function such as choice(...) or glob(...): Hydra checks it
            continue
        # `[a,b]` selects several configs; `a,b` sweeps them under -m
        choices = [v.strip() for v in value.strip("[]").split(",")]
        for choice in choices:
            if choice and choice not in options[key]:
                plural = key if key.endswith("s") else f"{key}s"
                raise ConfigError(
                    f"{key}={choice}: unknown option; available {plural}: {', '.join(options[key])}"
                )


def _one_line(exc: BaseException) -> str:
    lines = [str(exc).strip().splitlines()[0]]
    cause = exc.__cause__ or exc.__context__
    if cause is not None and str(cause).strip():
        lines.append(str(cause).strip().splitlines()[0])
    return ": ".join(lines)


def check_overrides_parse(overrides: list[str]) -> None:
    """A malformed ``key=value`` (``'model.max_depth=range(3,'``) -> one line naming it, also
    for multirun sweeps, which :func:`check_composes` leaves to Hydra."""
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.errors import HydraException

    parser = OverridesParser.create()
    for override in overrides:
        if "=" not in override or override.startswith("-"):
            continue
        try:
            parser.parse_override(override)
        except HydraException as exc:
            raise ConfigError(f"{override}: malformed override: {str(exc).strip().splitlines()[0]}") from exc


def check_composes(overrides: list[str], root: Path | None = None, config_name: str = "train") -> None:
    """Compose once up front so a bad key or value fails with one line naming it.

    Multirun sweeps (``-m``) and other config files are left to Hydra itself.
    """
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    skip = {"-m", "--multirun", "-cn", "--config-name", "-cp", "--config-path", "-cd", "--config-dir"}
    if skip.intersection(overrides):
        return
    # key=value overrides only: flag values such as `--cfg job` have no '='
    plain = [o for o in overrides if "=" in o and not o.startswith("-")]
    try:
        with initialize_config_dir(str(root or conf_dir()), version_base="1.3"):
            compose(config_name, overrides=plain, return_hydra_config=True)
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc)) from exc


def help_text(program: str, recipes: str) -> str:
    lines = [recipes.strip(), "", "Config groups (pick one with group=option):"]
    for group, names in group_options().items():
        lines.append(f"  {group:<11} {', '.join(names)}")
    lines += [
        "",
        "Any key can be overridden: model.max_depth=4 trainer.max_epochs=20 seed=7.",
        f"Print the composed config: {program} --cfg job.  Hydra's own flags: --hydra-help.",
        "Exit codes: 0 ok, 2 bad config or data, 3 model did not beat the baseline,",
        "4 requested device unavailable, 5 exported graph failed the parity gate.",
    ]
    return "\n".join(lines)


def compose_app_config(config_name: str, overrides: list[str]) -> Any:
    """Compose ``conf/<config_name>.yaml`` with ``key=value`` overrides, resolved; one-line
    :class:`ConfigError` on a bad key, value or missing required key."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    from tabpipe.config.store import register_configs

    register_configs()
    try:
        with initialize_config_dir(str(conf_dir()), version_base="1.3"):
            cfg = compose(config_name, overrides=list(overrides))
        OmegaConf.resolve(cfg)
        missing = sorted(OmegaConf.missing_keys(cfg))
    except (HydraException, OmegaConfBaseException) as exc:
        raise ConfigError(_one_line(exc)) from exc
    if missing:
        raise ConfigError(f"{missing[0]}: required (pass {missing[0]}=...)")
    return cfg


def run_app_command(doc: str, config_name: str, argv: list[str], action: Callable[[Any], None]) -> None:
    """``--help`` prints ``doc``; otherwise compose ``conf/<config_name>.yaml`` with ``argv``
    and run ``action(cfg)``; a :class:`TabpipeError` becomes one ``error:`` line per problem
    and its exit code."""

    from tabpipe.cli import fail
    from tabpipe.errors import TabpipeError

    if any(flag in argv for flag in ("-h", "--help")):
        print(doc)
        return
    try:
        action(compose_app_config(config_name, argv))
    except TabpipeError as error:
        fail(error)
