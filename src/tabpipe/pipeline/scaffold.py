"""The files of a new project (``tabpipe init``): its ``conf/`` in front of the packaged
defaults, the DVC pipeline, ignore files, the example data and a short README.

Every file is text rendered here from the example chosen (:data:`EXAMPLES`); nothing in it
names a path of tabpipe's own repository, so the project works with tabpipe installed from a
wheel. The DVC files (``params.yaml``, ``pipeline/config/``) are composed from the new
``conf/``, as ``tabpipe params`` does (:mod:`.dvc_params`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Example:
    """An example dataset of ``tabpipe init --example``: a bundled CSV copied into ``data/``."""

    dataset: str  # the bundled dataset (src/tabpipe/datasets/<dataset>.csv)
    option: str  # the project's data option, conf/data/<option>.yaml
    data_yaml: str  # its keys after the schema
    split: str | None  # the project's default split, if not the packaged one
    binary: bool  # the binary-classification plots in dvc.yaml


EXAMPLES = {
    "churn": Example(
        dataset="telco_churn",
        option="churn",
        data_yaml='name: churn\ntarget: churn\ntask: binary\npositive_class: "Yes"\n'
        "id_columns: [customer_id]\n",
        split=None,
        binary=True,
    ),
    "weather": Example(
        dataset="seattle_weather",
        option="weather",
        data_yaml="name: weather\ntarget: weather\ntask: multiclass\ntime_column: date\n",
        split="temporal",
        binary=False,
    ),
}
CHOICES = (*EXAMPLES, "none")


def train_yaml(example: Example | None) -> str:
    """``conf/train.yaml``: the packaged defaults first, then the project's own choices."""
    lines = [
        "# @package _global_",
        "# This project's training config (`tabpipe train`, `dvc repro`). It extends tabpipe's",
        "# packaged defaults (tabpipe_base: every group's default option and every key); this",
        "# project's own files in conf/<group>/ add options or replace packaged ones of the same",
        "# name. See `tabpipe train --help` for every group's options.",
        "defaults:",
        "  - tabpipe_base",
        "  # this file's own values (none yet): after the defaults, before the overlays",
        "  - _self_",
        "  # a complete recipe (conf/experiment/), e.g. `tabpipe train experiment=example`",
        "  - optional experiment: null",
        "  # an Optuna sweep, e.g. `tabpipe train -m hparams_search=lgbm_optuna`",
        "  - optional hparams_search: null",
        "  # debug presets: fdr, limit, overfit",
        "  - optional debug: null",
    ]
    if example is not None:
        lines.append(f"  # this project's data: conf/data/{example.option}.yaml, reading data/")
        lines.append(f"  - override data: {example.option}")
        if example.split:
            lines.append(f"  - override split: {example.split}")
    return "\n".join(lines) + "\n"


def data_yaml(example: Example) -> str:
    return (
        f"# {example.dataset}.csv, copied into data/ by `tabpipe init`; swap in your own CSV here.\n"
        "defaults:\n  - /schema/data/data@_here_\n  - _self_\n\n"
        f"source: csv\npath: ${{paths.data_dir}}/{example.dataset}.csv\n{example.data_yaml}"
    )


EXPERIMENT_YAML = """\
# @package _global_
# An example recipe of this project:  tabpipe train experiment=example
defaults:
  - override /features: trees
  - override /model: lgbm

tags: [example]
model:
  n_estimators: 200
  num_leaves: 15
"""

_STAGES = """\
# The training pipeline as DVC stages (`dvc repro`); each stage is `tabpipe stage <name>`,
# configured by pipeline/config/config.yaml: the composition of conf/ that `tabpipe params`
# writes (run it after changing conf/) and `dvc exp run -S model=lgbm` recomposes.
stages:
  ingest:
    cmd: tabpipe stage ingest
    deps:{data_dep}
      - pipeline/config/ingest.yaml
    outs:
      - data/raw
      - data/validated
  split:
    cmd: tabpipe stage split
    deps:
      - data/validated
      - pipeline/config/split.yaml
    outs:
      - data/split
  train:
    cmd: tabpipe stage train
    deps:
      - data/validated
      - data/split
      - pipeline/config/train.yaml
    outs:
      - pipeline/train
  evaluate:
    cmd: tabpipe stage evaluate
    deps:
      - data/validated
      - data/split
      - pipeline/train
      - pipeline/config/evaluate.yaml
    outs:
      - pipeline/evaluate/run
      - pipeline/evaluate/evaluation.joblib
    metrics:
      - pipeline/evaluate/metrics.json:
          cache: false
  export:
    cmd: tabpipe stage export
    deps:
      - data/validated
      - data/split
      - pipeline/train
      - pipeline/evaluate/evaluation.joblib
      - pipeline/config/export.yaml
    outs:
      - pipeline/export
"""

_PLOTS = """
# PNG copies: DVC's HTML loads Vega from a CDN and renders blank offline
plots:
  - pipeline/evaluate/run/plots/roc.png
  - pipeline/evaluate/run/plots/pr.png
  - pipeline/evaluate/run/plots/calibration.png
  - pipeline/evaluate/run/plots/confusion_matrix.png
"""


def dvc_yaml(example: Example | None) -> str:
    data_dep = f"\n      - data/{example.dataset}.csv" if example is not None else ""
    plots = _PLOTS if example is None or example.binary else ""
    return _STAGES.format(data_dep=data_dep) + plots


# what a run writes (under the project root); DVC adds its outputs' entries itself
GITIGNORE = """\
logs/
outputs/
registry/
monitoring/
wandb/
mlruns/
dvc_plots/
__pycache__/
# the best-params experiment every sweep rewrites (git add -f to keep one)
conf/experiment/*_best.yaml
"""

DVCIGNORE = """\
# what tabpipe runs write: not DVC's to index
logs/
outputs/
registry/
monitoring/
wandb/
mlruns/
"""

# DVC's plugin for `dvc exp run` (.dvc/config: hydra.plugins_path): tabpipe's one-line errors
# and the stages' files written beside params.yaml (tabpipe.pipeline.dvc_compose)
DVC_PLUGIN = '''"""Loaded by DVC alone before `dvc exp run` composes conf/: tabpipe.pipeline.dvc_compose."""

from tabpipe.pipeline.dvc_compose import install

install()
'''
DVC_PLUGIN_PATH = Path(".dvc/plugins/hydra_plugins/tabpipe_dvc/__init__.py")

DVC_CONFIG = """\
[core]
    analytics = false
    check_update = false
[hydra]
    enabled = true
    config_dir = conf
    config_name = train
    plugins_path = .dvc/plugins
"""


def readme(name: str, example: Example | None) -> str:
    data = (
        f"`data/{example.dataset}.csv` (conf/data/{example.option}.yaml)"
        if example is not None
        else "tabpipe's bundled churn data (point `conf/data/` at your own CSV)"
    )
    return f"""# {name}

A tabpipe project: `conf/` holds this project's configs, in front of tabpipe's packaged
defaults; every run writes here (logs/, registry/, monitoring/). Data: {data}.

```
tabpipe train                          # train, evaluate, export and register a model
tabpipe train experiment=example       # conf/experiment/example.yaml
tabpipe train model=xgb seed=7         # any group or key from the command line
tabpipe train --help                   # every group's options (packaged and this project's)
dvc repro                              # the same pipeline as DVC stages (dvc.yaml)
tabpipe params                         # after changing conf/: the files DVC reads
tabpipe serve bundle={example.option if example else "telco_churn"}:1     # the first registered version
```

Add an option to a group with a file of your own, e.g. `conf/model/my_xgb.yaml`, and select
it with `model=my_xgb`; a file named like a packaged one (`conf/model/xgb.yaml`) replaces it.
"""


def files(name: str, example: Example | None) -> dict[Path, str]:
    """Every text file of the project (relative path -> content), the DVC params files aside."""
    out = {
        Path("conf/train.yaml"): train_yaml(example),
        Path("conf/experiment/example.yaml"): EXPERIMENT_YAML,
        Path("dvc.yaml"): dvc_yaml(example),
        Path(".gitignore"): GITIGNORE,
        Path(".dvcignore"): DVCIGNORE,
        Path("README.md"): readme(name, example),
    }
    if example is not None:
        out[Path(f"conf/data/{example.option}.yaml")] = data_yaml(example)
    return out


def write_project(root: Path, example: Example | None) -> list[Path]:
    """Write the project's files under ``root`` (each whole: temporary file, then rename),
    copy the example's dataset into ``data/`` and write the files DVC reads, composed from the
    new ``conf/``; returns the paths written, relative to ``root``."""
    import shutil

    from tabpipe.data.sources import bundled_dataset_path
    from tabpipe.io import write_atomic, write_text_atomic
    from tabpipe.pipeline import dvc_params

    written = []
    for path, text in files(root.resolve().name, example).items():
        write_text_atomic(root / path, text)
        written.append(path)
    (root / "data").mkdir(exist_ok=True)
    if example is not None:
        target = Path("data") / f"{example.dataset}.csv"
        source = bundled_dataset_path(example.dataset)
        write_atomic(root / target, lambda tmp: shutil.copyfile(source, tmp))
        written.append(target)
    generated = dvc_params.generated(dvc_params.compose(root / "conf", []))
    dvc_params.write(root, generated)
    return [*written, *generated]
