"""``reference/config.md``: every config group, its options and every key, from the schemas
registered in Hydra's ConfigStore and the packaged ``conf/`` files."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path
from typing import Any

import yaml
from omegaconf import MISSING, OmegaConf

from tabpipe_docgen.config_keys import Key, schema_keys, undescribed
from tabpipe_docgen.markdown import code, fenced, literal, prose, table

_SCHEMA_REF = re.compile(r"^/?schema/(?P<group>[\w/]+)/(?P<name>\w+)@_here_$")
_KEY_HEADER = ("key", "type", "default", "range", "description")


def packaged_config_dir() -> Path:
    """The config files tabpipe ships (``pkg://tabpipe.conf``), which the reference documents
    (a project's own ``conf/`` adds options in front of them)."""
    from tabpipe.config.groups import PACKAGED_DIR

    return PACKAGED_DIR


def _own(schema: type) -> bool:
    """tabpipe's schemas and its sweeper's, not those of other Hydra plugins (joblib, ...)."""
    return schema.__module__.startswith(("tabpipe.", "hydra_plugins.tabpipe_"))


def registered_schemas() -> dict[str, type]:
    """Every tabpipe dataclass in Hydra's ConfigStore (the groups', the commands', the sweeper's,
    its samplers' and pruners'), by its ConfigStore path (``schema/model/xgb``,
    ``hydra/sweeper/tabpipe_optuna``)."""
    from hydra.core.config_store import ConfigStore

    import hydra_plugins.tabpipe_optuna_sweeper.config  # noqa: F401 -- registers the sweeper's
    from tabpipe.config.store import register_configs

    register_configs()
    found: dict[str, type] = {}

    def walk(node: dict, prefix: str) -> None:
        for name, item in node.items():
            if isinstance(item, dict):
                walk(item, f"{prefix}{name}/")
                continue
            kind = OmegaConf.get_type(item.node)
            if kind is not None and dataclasses.is_dataclass(kind) and _own(kind):
                found[f"{prefix}{name.removesuffix('.yaml')}"] = kind

    walk(ConfigStore.instance().repo, "")
    return found


def check_descriptions(schemas: dict[str, type]) -> None:
    """Raise when a key has no description: the build fails, naming each one."""
    missing = undescribed(schemas.values())
    if missing:
        raise ValueError(
            "config keys without a description (add an attribute docstring under each field): "
            + ", ".join(missing)
        )


def _leading_comment(path: Path) -> str:
    lines = []
    for line in path.read_text().splitlines():
        if not line.startswith("#"):
            break
        if not line.startswith("# @package"):
            lines.append(line.lstrip("#").strip())
    return " ".join(lines)


def _schema_of(path: Path, schemas: dict[str, type]) -> type | None:
    """The schema a ``conf/`` file extends (``- /schema/<group>/<name>@_here_`` in its defaults)."""
    document = yaml.safe_load(path.read_text()) or {}
    for entry in document.get("defaults", []) if isinstance(document, dict) else []:
        match = _SCHEMA_REF.match(entry) if isinstance(entry, str) else None
        if match:
            return schemas.get(f"schema/{match['group']}/{match['name']}")
    return None


def _key_rows(keys: list[Key], values: dict[str, Any] | None = None) -> list[tuple]:
    rows = []
    for key in keys:
        default = (values or {}).get(key.path, key.default)
        if key.section:
            shown = ""
        elif default is MISSING or default == "???":
            shown = "required"
        else:
            shown = code(literal(default))
        rows.append((code(key.path), key.type, shown, key.range, prose(key.description)))
    return rows


def _composed(config_dir: Path, name: str) -> tuple[dict[str, Any], dict[str, str]]:
    """``conf/<name>.yaml`` composed: ``({dotted key: value}, {group: chosen option(s)})``,
    interpolations unresolved (the defaults the config files set over the schema's)."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(str(config_dir), version_base="1.3"):
        cfg = compose(name, return_hydra_config=True)
    container = OmegaConf.to_container(cfg, resolve=False)
    hydra = container.pop("hydra")
    flat: dict[str, Any] = {}

    def walk(node: Any, prefix: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{prefix}{key}.")
        else:
            flat[prefix.rstrip(".")] = node

    walk(container, "")
    chosen = {group: option for group, option in hydra["runtime"]["choices"].items() if "/" not in group}
    return flat, chosen


def group_files(config_dir: Path) -> dict[str, list[Path]]:
    """Each config group's option files, by group, in ``config_dir``."""
    from tabpipe.config.groups import GROUPS

    found = {group: sorted((config_dir / group).glob("*.yaml")) for group in GROUPS}
    return {group: files for group, files in found.items() if files}


def _group_section(group: str, files: list[Path], schemas: dict[str, type], default: str) -> list[str]:
    out = [f"### `{group}`", ""]
    if default:
        out += [f"Default: {default}.", ""]
    options = [(code(f.stem), prose(_leading_comment(f))) for f in files]
    out += [table(("option", "description"), options), ""]
    users: dict[type, list[str]] = {}
    for f in files:
        if (schema := _schema_of(f, schemas)) is not None:
            users.setdefault(schema, []).append(f.stem)
    for schema, options in users.items():
        if len(users) > 1:
            used = ", ".join(code(o) for o in options)
            out += [f"**{schema.__name__}** (options {used}): {prose(_doc(schema))}", ""]
        out += [table(_KEY_HEADER, _key_rows(schema_keys(schema, f"{group}."))), ""]
    if not users:  # free-form options (dicts of ``_target_`` configs, overlays): their files
        for f in files:
            body = textwrap.indent(fenced(f.read_text(), "yaml"), "    ")
            out += [f'??? note "`{group}/{f.name}`"', "", body, ""]
    return out


def _doc(schema: type) -> str:
    """The class docstring, unless it is the one ``dataclass`` makes up (``Name(field=...)``)."""
    text = " ".join((schema.__doc__ or "").split())
    return "" if text.startswith(f"{schema.__name__}(") else text


def _defaults(config_dir: Path) -> tuple[dict[str, Any], dict[str, str]]:
    """The composed ``train`` config's values, and each group's default option(s) in Markdown
    (a group of several options at once, ``logger``, by the option names among its keys)."""
    values, chosen = _composed(config_dir, "train")
    shown = {}
    for group, files in group_files(config_dir).items():
        if group in chosen:
            option = chosen[group]
            shown[group] = "none" if option is None else code(option)
        else:
            keys = {path.split(".")[1] for path in values if path.startswith(f"{group}.")}
            shown[group] = ", ".join(code(f.stem) for f in files if f.stem in keys) or "none"
    return values, shown


_INTRO = """# Configuration reference

Generated from the config schemas (the dataclasses in `tabpipe.config` and the Optuna
sweeper's) and the packaged `conf/` files at every docs build. Every key below can be set on
the command line (`python train.py model.max_depth=4 seed=7`); a group is chosen with
`group=option` (`model=lgbm`). A key that is not listed fails at once with its name, and a
value outside its range fails before anything runs (exit code 2).

The options are the packaged ones (`src/tabpipe/conf/`, shipped in the wheel as
`pkg://tabpipe.conf`); a project's own `conf/<group>/<name>.yaml` adds an option, or replaces
the packaged one of the same name. The defaults of the group tables are the schema's; an
option's file may set its own. The defaults of the root keys and of the commands are the
composed packaged configs' (`${...}` is an interpolation, resolved when the run starts).
"""


def _app_section(title: str, config_dir: Path, name: str, schema: type) -> list[str]:
    values, _ = _composed(config_dir, name)
    out = [f"## {title}", "", f"The keys of `{name}.yaml`: {prose(_doc(schema))}", ""]
    return [*out, table(_KEY_HEADER, _key_rows(schema_keys(schema), values)), ""]


def _sweeper_section(schemas: dict[str, type]) -> list[str]:
    out = ["## The Optuna sweeper: `hydra.sweeper`", ""]
    sweeper = schemas["hydra/sweeper/tabpipe_optuna"]
    out += [
        prose(_doc(sweeper)),
        "",
        table(_KEY_HEADER, _key_rows(schema_keys(sweeper, "hydra.sweeper."))),
        "",
    ]
    for kind in ("sampler", "pruner"):
        prefix = f"hydra/sweeper/{kind}/"
        out += [f"### `hydra.sweeper.{kind}`", ""]
        for path, schema in sorted(schemas.items()):
            if path.startswith(prefix):
                option = path.removeprefix(prefix)
                keys = schema_keys(schema, f"hydra.sweeper.{kind}.")
                out += [
                    f"`hydra/sweeper/{kind}={option}`: {prose(_doc(schema))}",
                    "",
                    table(_KEY_HEADER, _key_rows(keys)),
                    "",
                ]
    return out


def render(config_dir: Path) -> str:
    """The page for the configs in ``config_dir``; raises when a key has no description."""
    from tabpipe.config.app_schema import APP_SCHEMAS
    from tabpipe.config.schema import TrainConfig

    schemas = registered_schemas()
    check_descriptions(schemas)
    values, defaults = _defaults(config_dir)
    files = group_files(config_dir)
    rows = [(code(g), ", ".join(code(f.stem) for f in options), defaults[g]) for g, options in files.items()]
    out = [
        _INTRO,
        "## `tabpipe train` (`python train.py`)",
        "",
        "Groups with a schema list its keys; the others show their option files.",
        "",
        table(("group", "options", "default"), rows),
        "",
    ]
    out += ["### Root keys", "", "The keys of `train.yaml` that belong to no group.", ""]
    root = [k for k in schema_keys(TrainConfig) if k.path.split(".")[0] not in files]
    out += [table(_KEY_HEADER, _key_rows(root, values)), ""]
    for group, options in files.items():
        out += _group_section(group, options, schemas, defaults[group])
    out += _sweeper_section(schemas)
    for name, schema in APP_SCHEMAS.items():
        out += _app_section(f"`tabpipe {name}`", config_dir, name, schema)
    return "\n".join(out)
