"""A tiny Hydra app swept by tabpipe's Optuna sweeper in tests: its objective can be a
number, NaN, inf or an exception, on demand, and each job records its pid and run time.

``outcome=by_trial`` picks the outcome from the trial number the sweeper passes
(``optuna.trial_number``): trial 0 ok, 1 NaN, 2 inf, 3 raises, then again.
``sleep_s_by_trial=[4, 0.2]`` makes trial durations differ the same way.
``+hparams=plane`` searches x and y (CMA-ES needs two dimensions).

    python tests/sweep_app/app.py -m +hparams=outcomes hydra.sweep.dir=/tmp/s
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig


@hydra.main(version_base="1.3", config_path="conf", config_name="app")
def main(cfg: DictConfig) -> float:
    started = time.time()
    by_trial = list(cfg.sleep_s_by_trial)
    time.sleep(by_trial[cfg.optuna.trial_number % len(by_trial)] if by_trial else cfg.sleep_s)
    record = {"pid": os.getpid(), "started": started, "finished": time.time()}
    Path(HydraConfig.get().runtime.output_dir, "job.json").write_text(json.dumps(record))
    outcome = cfg.outcome
    if outcome == "by_trial":
        outcome = ["ok", "nan", "inf", "raise"][cfg.optuna.trial_number % 4]
    if outcome == "raise":
        raise RuntimeError("this trial breaks on purpose")
    return {"ok": (cfg.x - 0.3) ** 2 + cfg.y**2, "nan": float("nan"), "inf": float("inf")}[outcome]


if __name__ == "__main__":
    main()
