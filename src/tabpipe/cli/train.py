"""Train a tabular model from composed Hydra configs.

Recipes::

    python train.py                                   # bundled churn data, xgb, test metrics
    python train.py model=lgbm split=kfold            # 5-fold CV, mean ± std
    python train.py model=mlp trainer.max_epochs=20 seed=7
    python train.py model=xgb trainer=gpu             # CUDA (exit 4 without one)
    python train.py data=csv data.path=my.csv data.target=churn data.task=binary
    python train.py experiment=churn_xgb              # a complete named recipe
    python train.py debug=fdr                         # fast dev run
    python train.py logger=[wandb,mlflow,csv] tags=[v2] tracking.group=ablation
    python train.py --cfg job                         # print the composed config
"""

from __future__ import annotations

import logging
import sys

from tabpipe.cli.groups import check_composes, check_group_choices, conf_dir, help_text
from tabpipe.errors import TabpipeError

log = logging.getLogger("tabpipe")


def _fail(error: TabpipeError) -> None:
    for line in str(error).splitlines():
        print(f"error: {line}", file=sys.stderr)
    sys.exit(error.exit_code)


def _task(cfg: object) -> float:
    # imported here so that --help and config errors never pay for pandas or sklearn
    from tabpipe.training.train import run_training

    try:
        return run_training(cfg).objective
    except TabpipeError as error:
        log.error("%s", error)
        _fail(error)
        raise  # unreachable: _fail exits


def main(argv: list[str] | None = None, program: str = "train.py") -> None:
    """Run the training app on ``argv`` (default: ``sys.argv[1:]``)."""
    import hydra

    from tabpipe.config.store import register_configs

    args = sys.argv[1:] if argv is None else argv
    if any(flag in args for flag in ("--help", "-h")):
        print(help_text(program, __doc__ or ""))
        return
    register_configs()
    try:
        check_group_choices(args)
        check_composes(args)
    except TabpipeError as error:
        _fail(error)
    sys.argv = [program, *args]
    hydra.main(version_base="1.3", config_path=str(conf_dir()), config_name="train")(_task)()


if __name__ == "__main__":
    main()
