"""What ``dvc exp run`` gets from tabpipe when DVC composes ``conf/`` (into params.yaml).

DVC composes ``conf/`` in its own process, with Hydra's ``compose()``
(``dvc.utils.hydra.compose_and_dump``), before any stage runs. It loads the Hydra plugins of
``.dvc/config``'s ``hydra.plugins_path`` (``src/dvc_plugins``: a directory no other process
puts on its path) just before composing; that plugin calls :func:`install`, which wraps
Hydra's composition for the rest of the DVC process so that:

* a bad ``-S`` (``model.num_leaves=7`` while the model is xgb, ``model=nope``, a value of the
  wrong type) is tabpipe's one line as DVC's own error type: DVC prints ``ERROR: <line>`` and
  exits non-zero, instead of ``ERROR: unexpected error`` and Hydra's text;
* the composition gets the checks ``python train.py`` makes before anything runs
  (:func:`tabpipe.config.checks.config_problems`: ranges such as ``model.learning_rate=-1``,
  required values, ``+key=`` past a schema), so a bad ``-S`` fails before the first stage;
* the files are written as ``tabpipe params`` writes them (:mod:`.dvc_params`): DVC gets
  params.yaml's few keys to write (the model group and the model's keys: what
  ``dvc exp show`` lists), and the plugin writes the whole composition the stages read,
  interpolations kept (paths and the registry root resolve where a stage runs), with the
  overrides DVC composed with, and the stages' dependency files, so that
  ``tabpipe params --check`` recomposes exactly that and can tell an experiment from a stale
  or hand-edited file.

It wraps ``hydra._internal.hydra.Hydra.compose_config``, which ``hydra.compose()`` calls
(hydra-core 1.3, pinned in requirements/constraints.txt).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from omegaconf import DictConfig

_MARK = "__tabpipe_dvc__"


def _escaped(node: Any) -> Any:
    """Every ``${`` escaped, so that DVC's ``OmegaConf.resolve`` leaves interpolations as text."""
    if isinstance(node, dict):
        return {key: _escaped(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_escaped(value) for value in node]
    return node.replace("${", "\\${") if isinstance(node, str) else node


def _as_written(cfg: DictConfig) -> DictConfig:
    """Writes the composition and the stages' files beside DVC's params.yaml; returns
    params.yaml's keys for DVC to write (interpolations escaped: DVC resolves what it writes)."""
    from omegaconf import OmegaConf

    from tabpipe.pipeline import dvc_params

    files = dvc_params.generated(cfg)
    params = files.pop(dvc_params.PARAMS)
    dvc_params.write(_project_root(), files)
    return OmegaConf.create(_escaped(params))


def _project_root() -> Path:
    """The DVC project DVC runs in (from the working directory, as DVC finds it)."""
    from dvc.exceptions import NotDvcRepoError
    from dvc.repo import Repo

    try:
        return Path(Repo.find_root())
    except NotDvcRepoError:
        return Path.cwd()


def _conf_dir(hydra: Any) -> Path | None:
    """The directory DVC composes from (``.dvc/config``: ``hydra.config_dir``)."""
    for entry in hydra.config_loader.get_search_path().get_path():
        if entry.provider == "main" and "://" not in entry.path:
            return Path(entry.path)
    return None


def install() -> None:
    """Wrap Hydra's composition in this process (idempotent). Called by DVC's plugin only."""
    from hydra._internal.hydra import Hydra

    if getattr(Hydra.compose_config, _MARK, False):
        return
    original = Hydra.compose_config

    @functools.wraps(original)
    def compose_config(self: Any, config_name: Any, overrides: list[str], *args: Any, **kwargs: Any) -> Any:
        from dvc.exceptions import InvalidArgumentError
        from hydra.errors import HydraException
        from omegaconf.errors import OmegaConfBaseException

        from tabpipe.config.checks import config_problems, describe
        from tabpipe.config.groups import check_group_choices, config_dirs
        from tabpipe.errors import ConfigError

        # DVC prints a DvcException as `ERROR: <message>`; Hydra's traceback would be noise
        root = _conf_dir(self)
        try:
            if root is not None:
                # model=nope: the options (the project's and the packaged ones), as train says
                check_group_choices(list(overrides), config_dirs(root))
            cfg = original(self, config_name, overrides, *args, **kwargs)
            problems = config_problems(cfg, list(overrides))  # ranges, required values, `+key=`
            if problems:
                raise ConfigError("\n".join(problems))
            return _as_written(cfg)
        except ConfigError as error:
            raise InvalidArgumentError(str(error)) from None
        except (HydraException, OmegaConfBaseException) as exc:
            raise InvalidArgumentError(describe(exc)) from None

    setattr(compose_config, _MARK, True)
    Hydra.compose_config = compose_config
