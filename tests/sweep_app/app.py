"""A tiny Hydra app swept by tabpipe's Optuna sweeper in tests: its objective can be a
number, NaN, inf or an exception, on demand, and each job records its pid and run time
(``started`` when it begins, ``job.json`` when it ends).

``outcome=by_trial`` picks the outcome from the trial number the sweeper passes
(``optuna.trial_number``): trial 0 ok, 1 NaN, 2 inf, 3 raises, then again.
``sleep_s_by_trial=[4, 0.2]`` makes trial durations differ the same way;
``wait_for_trials=[1, 2]`` makes trial 0 run until trials 1 and 2 have finished.
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


def _wait_for(sweep_dir: Path, trials: list[int], timeout_s: float) -> None:
    """Until each of ``trials`` has written its job.json, or ``timeout_s`` passed."""
    deadline = time.time() + timeout_s
    while time.time() < deadline and not all((sweep_dir / str(n) / "job.json").exists() for n in trials):
        time.sleep(0.02)


@hydra.main(version_base="1.3", config_path="conf", config_name="app")
def main(cfg: DictConfig) -> float:
    started = time.time()
    Path(HydraConfig.get().runtime.output_dir, "started").touch()  # tests wait for it
    if cfg.optuna.trial_number == 0 and cfg.wait_for_trials:
        _wait_for(Path(HydraConfig.get().sweep.dir), list(cfg.wait_for_trials), cfg.wait_timeout_s)
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
