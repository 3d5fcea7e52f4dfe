"""The retraining trigger: run ``on_alert`` when drift alerts, or when the calendar cadence
is due (``cadence_days`` after the bundle's training date, or after the last trigger).

Safe to call from cron, and from several monitors at once:

* the whole decision-and-run happens under an exclusive, non-blocking ``flock`` on
  ``<state_dir>/trigger.lock``: a second invocation that finds it held records ``skipped``
  and leaves; the lock dies with its process, so a killed run never wedges the next one;
* under the lock, a command that ran less than ``cooldown_hours`` ago is not run again, so an
  alert that persists until the retrained model is deployed does not retrain on every call;
* every decision (ran, with its exit code, duration and output tail; or skipped, and why) is
  appended to ``<state_dir>/triggers.jsonl``.

The command is split with ``shlex`` and run without a shell, in the current directory.
"""

from __future__ import annotations

import fcntl
import json
import shlex
import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from tabpipe.monitoring.document import TriggerOutcome

HISTORY = "triggers.jsonl"
LOCK = "trigger.lock"
OUTPUT_TAIL = 2000


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def parse_time(text: str) -> datetime:
    stamp = datetime.fromisoformat(text)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc)


def history(state_dir: Path) -> list[TriggerOutcome]:
    path = state_dir / HISTORY
    if not path.is_file():
        return []
    return [
        TriggerOutcome.model_validate_json(line) for line in path.read_text().splitlines() if line.strip()
    ]


def last_run(state_dir: Path) -> datetime | None:
    runs = [
        parse_time(entry.started) for entry in history(state_dir) if entry.action == "ran" and entry.started
    ]
    return max(runs) if runs else None


def cadence_due(
    trained_at: datetime, last: datetime | None, cadence_days: float, now: datetime
) -> tuple[bool, datetime]:
    """Due ``cadence_days`` after the later of the training date and the last trigger run."""
    anchor = max(trained_at, last) if last is not None else trained_at
    due_at = anchor + timedelta(days=cadence_days)
    return now >= due_at, due_at


def _record(state_dir: Path, entry: dict[str, Any]) -> TriggerOutcome:
    with (state_dir / HISTORY).open("a") as handle:
        handle.write(json.dumps(entry) + "\n")
    return TriggerOutcome.model_validate(entry)


def _run(command: str) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True, check=False)
    except OSError as exc:  # command not found, not executable
        return {"returncode": None, "error": f"{command!r} could not start: {exc.strerror or exc}"}
    output = (done.stdout or "") + (done.stderr or "")
    return {
        "returncode": done.returncode,
        "duration_s": round(time.perf_counter() - started, 3),
        "output_tail": output[-OUTPUT_TAIL:],
    }


def fire(
    state_dir: Path,
    reasons: list[str],
    command: str | None,
    cooldown_hours: float,
    context: dict[str, Any],
) -> TriggerOutcome:
    """Run ``command`` for ``reasons`` (``alert``, ``cadence``) unless another run holds the
    lock or one ran within the cooldown; returns (and records) what happened."""
    base = {"started": utc_now().isoformat(), "reasons": reasons, "command": command, **context}
    if not command:
        return TriggerOutcome.model_validate(
            base | {"action": "none", "detail": "no on_alert command configured"}
        )
    state_dir.mkdir(parents=True, exist_ok=True)
    with (state_dir / LOCK).open("a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return _record(
                state_dir, base | {"action": "skipped", "detail": "another trigger holds the lock"}
            )
        try:
            last = last_run(state_dir)
            now = utc_now()
            if last is not None and now - last < timedelta(hours=cooldown_hours):
                detail = f"ran at {last.isoformat()}, within cooldown_hours={cooldown_hours}"
                return _record(state_dir, base | {"action": "skipped", "detail": detail})
            base["started"] = now.isoformat()
            return _record(state_dir, base | {"action": "ran"} | _run(command))
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
