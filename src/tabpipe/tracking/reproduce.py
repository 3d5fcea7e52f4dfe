"""``tabpipe reproduce <run_dir>``: train again from a run's recorded overrides and seed.

The reproduction is a new run next to the original (``<run_dir>-reproduce-<time>``) that
registers nothing. Its metrics must equal the recorded ones exactly (they do on CPU, for
every model); a different dataset hash or git commit is reported as a warning, because
then a difference has a known cause.
"""

from __future__ import annotations

import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tabpipe.documents.base import read
from tabpipe.documents.metadata import MetadataDocument
from tabpipe.errors import ConfigError, IncompleteRunError

# replaced, not replayed: the seed is appended from the record, a reproduction never registers
_DROPPED_KEYS = ("seed", "registry.name", "registry.alias")


@dataclass
class Reproduction:
    run_dir: Path
    returncode: int
    differences: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    n_metrics: int = 0

    @property
    def identical(self) -> bool:
        return self.returncode == 0 and not self.differences


def _key(override: str) -> str:
    return override.lstrip("+~").split("=", 1)[0]


def replay_overrides(metadata: MetadataDocument) -> list[str]:
    overrides = metadata.hydra.overrides if metadata.hydra else None
    if overrides is None:
        raise ConfigError(
            "metadata.json: hydra.overrides is missing (the run was composed with Hydra's compose API, "
            "not started by `python train.py` or tabpipe.train); nothing to replay"
        )
    kept = [o for o in overrides if _key(o) not in _DROPPED_KEYS]
    return [*kept, f"seed={metadata.seed}", "registry.name=null"]


def metric_differences(recorded: dict[str, float], new: dict[str, float]) -> list[str]:
    """Exact comparison (NaN equals NaN); one line per differing or missing metric."""
    lines = []
    for key in sorted(set(recorded) | set(new)):
        if key not in new:
            lines.append(f"{key}: recorded {recorded[key]!r}, missing now")
        elif key not in recorded:
            lines.append(f"{key}: not recorded, now {new[key]!r}")
        else:
            a, b = recorded[key], new[key]
            same = a == b or (
                isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b)
            )
            if not same:
                lines.append(f"{key}: recorded {a!r}, now {b!r}")
    return lines


def provenance_warnings(recorded: MetadataDocument, new: MetadataDocument) -> list[str]:
    warnings = []
    old_hash, new_hash = recorded.dataset.sha256, new.dataset.sha256
    if old_hash != new_hash:
        warnings.append(f"dataset sha256 differs: recorded {old_hash}, now {new_hash}")
    old_git, new_git = recorded.git, new.git
    if old_git.commit != new_git.commit:
        warnings.append(f"git commit differs: recorded {old_git.commit}, now {new_git.commit}")
    if old_git.dirty:
        warnings.append("the recorded run had uncommitted changes: its code is not fully known")
    return warnings


def override_text(path: Path | str) -> str:
    """A path (or any text) as a Hydra override value: quoted when it holds characters the
    grammar parses."""
    text = str(path)
    if re.fullmatch(r"[\w/.:+-]+", text):
        return text
    stripped = text.rstrip("\\")  # Hydra unescapes backslashes only before a quote or the end
    trailing = (len(text) - len(stripped)) * 2
    return "'" + stripped.replace("'", "\\'") + "\\" * trailing + "'"


def _child_env(run_dir: Path) -> dict[str, str]:
    """This process's environment, with the tabpipe it imports first on the path and, unless
    ``TABPIPE_PROJECT`` says otherwise, the project the run lies in (its configs, its outputs)."""
    from tabpipe.config.project import ENV, find_project

    env = dict(os.environ)
    source_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [source_root, env.get("PYTHONPATH")]))
    project = find_project(start=run_dir)
    if not env.get(ENV) and project.root != run_dir:  # a project above <root>/logs/.../<run>
        env[ENV] = str(project.root)
    return env


def reproduce(run_dir: Path, output_dir: Path | None = None) -> Reproduction:
    run_dir = Path(run_dir).resolve()
    metadata_path = run_dir / "metadata.json"
    if not metadata_path.is_file():
        raise IncompleteRunError([f"{run_dir}: metadata.json is missing (not a tabpipe run directory?)"])
    recorded = read(MetadataDocument, metadata_path)
    overrides = replay_overrides(recorded)
    stamp = datetime.now().strftime("%Y-%m-%d_%H-%M-%S")
    target = Path(output_dir or run_dir.parent / f"{run_dir.name}-reproduce-{stamp}").resolve()
    recorded_cwd = Path((recorded.hydra.cwd if recorded.hydra else None) or ".")
    command = [
        sys.executable,
        "-m",
        "tabpipe.cli.train",
        *overrides,
        f"hydra.run.dir={override_text(target)}",
    ]
    print("reproducing:", " ".join(command[3:]), flush=True)
    done = subprocess.run(
        command, cwd=recorded_cwd if recorded_cwd.is_dir() else None, env=_child_env(run_dir), check=False
    )
    result = Reproduction(target, done.returncode)
    new_metadata = target / "metadata.json"
    if not new_metadata.is_file():
        result.differences.append(f"the reproduction wrote no metadata.json (exit code {done.returncode})")
        return result
    new = read(MetadataDocument, new_metadata)
    result.differences = metric_differences(recorded.metrics, new.metrics)
    result.warnings = provenance_warnings(recorded, new)
    result.n_metrics = len(recorded.metrics)
    return result
