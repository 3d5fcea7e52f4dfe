"""Debris of killed processes (real SIGKILLs): never visible, removed once its owner is gone
(by the next run or `tabpipe registry fsck --repair`), kept while its owner lives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT, cli_env
from registry_helpers import register_in_subprocess, registry_cli, trained_bundle
from tabpipe.export.registry import Registry
from tabpipe.io import process_state


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return trained_bundle(tmp_path_factory)


def debris(root: Path) -> list[str]:
    return sorted(p.name for p in (root / "churn").iterdir() if p.name.startswith((".reserved", ".staging")))


def python(code: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=cli_env(),
    )


def kill(process: subprocess.Popen) -> int:
    process.send_signal(signal.SIGKILL)
    return process.wait()


def test_killed_registrations_leave_no_half_version_and_their_debris_is_cleaned(
    bundle: Path, tmp_path: Path, capsys
) -> None:
    """SIGKILL at each point of a registration (the process kills itself there,
    tabpipe.faults): no half version is ever listed; fsck reports the
    debris, and the next registration removes it."""
    root = tmp_path / "registry"
    for point in ("registry.reserved", "registry.copying", "registry.assembled"):
        process = register_in_subprocess(root, bundle, fault=point)
        assert process.wait(timeout=120) == -signal.SIGKILL, (point, process.stderr.read())
        assert Registry(root).versions("churn") == [], point  # no half version is listed
    left = debris(root)
    assert left and all(name.startswith((".reserved-", ".staging-")) for name in left)
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck")
    assert code == 1 and out.count("problem: churn: stale debris of a killed process") == len(left)
    after = Registry(root).register("churn", bundle)
    assert after == max(Registry(root).versions("churn"))
    assert debris(root) == []  # the next registration removed what the killed ones left
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck")
    assert code == 0, out


def test_fsck_repair_removes_a_killed_registrations_debris(bundle: Path, tmp_path: Path, capsys) -> None:
    root = tmp_path / "registry"
    Registry(root).register("churn", bundle)
    hold = "import sys, time; from tabpipe.export.registry import Registry; "
    hold += "print(Registry(sys.argv[1])._reserve('churn'), flush=True); time.sleep(120)"
    process = python(hold, str(root))
    version = int(process.stdout.readline())
    (root / "churn" / f".staging-{version}").mkdir()  # the copy it had begun
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck", "--repair")
    assert code == 0 and f"in progress ({process.pid}@" in out  # a live owner's reservation is kept
    assert debris(root) == [f".reserved-{version}", f".staging-{version}"]
    process.send_signal(signal.SIGKILL)  # not reaped yet: a zombie still holds its pid
    deadline = time.time() + 10
    while process_state(process.pid)[0] != "Z" and time.time() < deadline:
        time.sleep(0.01)
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck", "--repair")
    assert code == 0 and out.count("repaired: churn: stale debris") == 2, out
    assert debris(root) == []
    assert process.wait() == -signal.SIGKILL


def test_debris_under_a_reused_pid_is_stale(tmp_path: Path) -> None:
    """A pid now held by a process that started after the debris was written is not its owner."""
    from tabpipe.io import remove_stale_debris

    other = python("import time; time.sleep(120)")
    try:
        old, new = (
            tmp_path / f".a.json.{other.pid}-x1.tmp.json",
            tmp_path / f".b.json.{other.pid}-x2.tmp.json",
        )
        old.write_text("{}")
        new.write_text("{}")
        os.utime(old, (time.time() - 3600, time.time() - 3600))  # written an hour before that process began
        assert remove_stale_debris(tmp_path) == [old]
        assert new.exists()
    finally:
        kill(other)


def test_a_live_registrations_reservation_survives_the_next_registration(
    bundle: Path, tmp_path: Path
) -> None:
    root = tmp_path / "registry"
    hold = "import sys, time; from tabpipe.export.registry import Registry; "
    hold += "print(Registry(sys.argv[1])._reserve('churn'), flush=True); time.sleep(120)"
    process = python(hold, str(root))
    try:
        assert int(process.stdout.readline()) == 1
        assert Registry(root).register("churn", bundle) == 2
        assert debris(root) == [".reserved-1"]
    finally:
        kill(process)
    assert Registry(root).register("churn", bundle) == 3
    assert debris(root) == []
    assert Registry(root).versions("churn") == [2, 3]


WRITE_SLOWLY = (
    "import sys, time; from pathlib import Path; from tabpipe.io import write_atomic; "
    "write_atomic(Path(sys.argv[1]), lambda tmp: (tmp.write_text('{}'), print('writing', flush=True), "
    "time.sleep(120)))"
)


def test_temporary_files_of_killed_runs_are_removed_by_the_next_run(tmp_path: Path) -> None:
    from helpers import QUICK, compose_config
    from tabpipe.training.train import run_training

    runs = tmp_path / "runs"
    killed, live, other = (
        runs / "2026-01-01_00-00-00",
        runs / "2026-01-01_00-00-01",
        tmp_path / "runs" / "notes",
    )
    for directory in (killed / ".hydra", live / ".hydra", other):
        directory.mkdir(parents=True)
    writers = [python(WRITE_SLOWLY, str(d / "model" / "metrics.json")) for d in (killed, live, other)]
    try:
        for writer in writers:
            assert writer.stdout.readline().strip() == "writing"
        assert kill(writers[0]) == -signal.SIGKILL
        assert kill(writers[2]) == -signal.SIGKILL
        (stale,) = (killed / "model").glob(".metrics.json.*.tmp.json")
        assert f".{writers[0].pid}-" in stale.name
        run_training(
            compose_config([*QUICK, "model=linear", "registry.name=null"], runs / "2026-01-02_00-00-00")
        )
        assert not stale.exists()  # the next run removed it
        assert len(list((live / "model").glob(".metrics.json.*.tmp.json"))) == 1  # its writer lives
        assert len(list((other / "model").glob(".*.tmp.json"))) == 1  # not a run directory
    finally:
        for writer in writers:
            if writer.poll() is None:
                kill(writer)


SINK_THEN_SLEEP = (
    "import sys, time; import pandas as pd; from pathlib import Path; "
    "from tabpipe.serving.batch import _Sink; "
    "sink = _Sink(Path(sys.argv[1])); sink.write(pd.DataFrame({'a': [1.0]})); print('writing', flush=True); "
    "time.sleep(120)"
)


def test_a_killed_batch_runs_partial_output_is_removed_by_the_next_batch_run(
    bundle: Path, tmp_path: Path
) -> None:
    from tabpipe.serving.batch import score_files
    from tabpipe.serving.loaded_model import load_model

    output = tmp_path / "out" / "scored.parquet"
    writer = python(SINK_THEN_SLEEP, str(output))
    assert writer.stdout.readline().strip() == "writing"
    assert kill(writer) == -signal.SIGKILL
    stale = output.with_name(f".scored.parquet.{writer.pid}.tmp")
    assert stale.is_file()
    rows = tmp_path / "rows.csv"
    pd.read_csv(ROOT / "src/tabpipe/datasets/telco_churn.csv", nrows=50).to_csv(rows, index=False)
    model = load_model(str(bundle), tmp_path / "registry", ["CPUExecutionProvider"])
    summary = score_files(model, [rows], output, 1000, "reject", None, progress=False)
    assert summary.rows_scored == 50 and len(pd.read_parquet(output)) == 50
    assert not stale.exists()
    assert sorted(p.name for p in output.parent.iterdir()) == ["scored.parquet"]
