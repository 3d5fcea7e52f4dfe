"""``optimization_results.yaml``: what a sweep leaves in its sweep directory. The keys are
the official Optuna sweeper's (``name``, ``best_params``, ``best_value``) plus tabpipe's:
the study and its storage, the trial counts, the best trial's run directory and the
best-params experiment, the dashboard command. Written and read through :class:`SweepSummary`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from tabpipe.documents.base import one_line
from tabpipe.errors import ConfigError
from tabpipe.io import write_text_atomic

RESULTS_NAME = "optimization_results.yaml"


class _Part(BaseModel):
    model_config = ConfigDict(extra="allow")


class TrialCounts(_Part):
    """The study's trials by state (``interrupted``: a trial whose process was killed)."""

    complete: int = 0
    pruned: int = 0
    failed: int = 0
    interrupted: int = 0
    running: int = 0
    waiting: int = 0


class BestExperiment(_Part):
    """The best trial as an experiment file, and the command that re-runs it."""

    file: str
    command: str


class SweepSummary(_Part):
    name: str = "optuna"  # the official plugin's key
    study_name: str
    storage: str
    direction: str
    optimized_metric: str | None = None
    n_trials: int
    trials: TrialCounts
    best_trial: int | None = None
    best_value: float | None = None
    best_params: dict[str, Any] = {}
    best_run_dir: str | None = None
    best_experiment: BestExperiment | None = None
    dashboard: str

    def write(self, path: Path) -> Path:
        """As YAML, atomically (a temporary file, then a rename), in the fields' order."""
        text = yaml.safe_dump(self.model_dump(mode="json"), sort_keys=False)
        return write_text_atomic(path, text)

    @classmethod
    def read(cls, path: Path) -> SweepSummary:
        """``path`` validated; one line naming the file and the field when it does not."""
        try:
            return cls.model_validate(yaml.safe_load(path.read_text()))
        except yaml.YAMLError as error:
            raise ConfigError(f"{path}: not valid YAML ({error})") from None
        except ValidationError as error:
            raise ConfigError(one_line(error, str(path))) from None
