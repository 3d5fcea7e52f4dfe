"""tabpipe as a user gets it: a wheel installed into a fresh venv, `tabpipe init`, `tabpipe
train`, `dvc repro`, `tabpipe serve` and the Python API in a script, in the new project,
offline, writing nothing outside it.

The fresh venv gets the wheel alone (``pip install --no-deps``); its dependencies come from
this test run's venv through a ``.pth`` line (a plain path: that venv's own ``.pth`` files,
among them the editable install of a checkout, are not processed), so nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import urllib.request
import venv
from pathlib import Path

import pandas as pd
import pytest

from helpers import ROOT
from serving_helpers import free_port

pytestmark = pytest.mark.slow


def _run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 300) -> str:
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{' '.join(command)}:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


def _build_wheel(tmp: Path) -> Path:
    """The wheel of this checkout, built from a copy (a build writes build/ and *.egg-info)."""
    source = tmp / "source"
    shutil.copytree(ROOT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q"]
    _run([*command, "-w", str(tmp / "dist"), str(source)], tmp, dict(os.environ))
    (wheel,) = (tmp / "dist").glob("tabpipe-*.whl")
    return wheel


def _fresh_venv(tmp: Path, wheel: Path) -> Path:
    """A venv holding the wheel; the dependencies: this venv's site-packages, by a .pth line."""
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)]
    _run(pip, tmp, _clean_env())  # PYTHONPATH's checkout would pass for an installed tabpipe
    # after the install: pip would take the checkout's editable tabpipe for the wheel's
    Path(purelib, "ci_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return env_dir


def _clean_env() -> dict[str, str]:
    """This environment without what points at a checkout or selects a project."""
    return {
        k: v for k, v in os.environ.items() if not k.startswith(("TABPIPE_", "PYTHONPATH", "VIRTUAL_ENV"))
    }


def _snapshot(directory: Path) -> dict[str, float]:
    return {str(p.relative_to(directory)): p.stat().st_mtime for p in directory.rglob("*") if p.is_file()}


def test_a_wheel_in_a_fresh_venv_inits_trains_and_repros_a_project(tmp_path: Path) -> None:
    env_dir = _fresh_venv(tmp_path, _build_wheel(tmp_path))
    python = str(env_dir / "bin" / "python")
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    env = _clean_env() | {
        # the wheel's `tabpipe` first: DVC's stages run it
        "PATH": f"{env_dir / 'bin'}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(home),
        "WANDB_MODE": "offline",
        "DVC_NO_ANALYTICS": "1",
        "OMP_NUM_THREADS": "1",
        "OMP_WAIT_POLICY": "PASSIVE",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    where = _run(
        [python, "-c", "import tabpipe, hydra_plugins.tabpipe_configs as p; print(tabpipe.__file__)"],
        work,
        env,
    )
    package = Path(where.strip()).parent
    assert package.is_relative_to(env_dir) and not package.is_relative_to(ROOT), package
    installed = _snapshot(package)

    out = _run(["tabpipe", "init", "demo", "--example", "churn"], work, env)
    assert "created the tabpipe project demo" in out
    demo = work / "demo"
    for name in ("conf/train.yaml", "conf/experiment/example.yaml", "conf/data/churn.yaml", "dvc.yaml"):
        assert (demo / name).is_file(), name
    assert (demo / "data" / "telco_churn.csv").stat().st_size > 100_000

    _run(["tabpipe", "train", "model=lgbm", "model.n_estimators=20"], demo, env)
    assert (demo / "registry" / "churn" / "1" / "model.onnx").is_file()
    assert list((demo / "logs" / "train" / "runs").iterdir())

    # the project's own value, after the packaged defaults: a fast pipeline
    with (demo / "conf" / "train.yaml").open("a") as train_yaml:
        train_yaml.write("\nmodel:\n  n_estimators: 20\n")
    _run(["tabpipe", "params"], demo, env)
    repro = _run([python, "-m", "dvc", "repro"], demo, env)
    assert "Running stage 'export'" in repro
    assert (demo / "pipeline" / "export" / "bundle" / "model.onnx").is_file()

    rows = pd.read_csv(demo / "data" / "telco_churn.csv").drop(columns=["churn"]).head(3)
    served = _serve_and_predict(demo, env, rows)
    script = (
        "import json, pandas as pd, tabpipe\n"
        "bundle = tabpipe.load_bundle('churn:1')\n"
        "rows = pd.read_csv('data/telco_churn.csv').drop(columns=['churn']).head(3)\n"
        "print('PROBA', json.dumps(bundle.predict(rows)['proba_Yes'].tolist()))\n"
    )
    out = _run([python, "-c", script], demo, env)
    from_api = json.loads(out.split("PROBA ", 1)[1].splitlines()[0])
    assert from_api == served  # the API and the server: the same graph, bit for bit

    assert sorted(p.name for p in work.iterdir()) == ["demo"]  # nothing beside the project
    # in the home directory only the libraries' caches and settings (matplotlib, ONNX Runtime, W&B)
    assert {p.name for p in home.iterdir()} <= {".cache", ".config"}
    assert _snapshot(package) == installed  # nothing into the installed package


def _serve_and_predict(project: Path, env: dict[str, str], rows: pd.DataFrame) -> list[float]:
    """``tabpipe serve`` from the wheel in the project: /health, then /predict on ``rows``."""
    port = free_port()
    command = ["tabpipe", "serve", "bundle=churn:1", f"port={port}"]
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.PIPE}
    server = subprocess.Popen(command, cwd=project, env=env, **quiet)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()[-2000:]
            try:
                with urllib.request.urlopen(f"{url}/health", timeout=2) as reply:
                    assert reply.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline, "the server did not come up in 60 s"
                time.sleep(0.2)
        body = json.dumps(json.loads(rows.to_json(orient="records"))).encode()
        request = urllib.request.Request(f"{url}/predict", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as reply:
            answer = json.loads(reply.read())
    finally:
        server.terminate()
        server.wait(timeout=30)
    return [prediction["probabilities"]["Yes"] for prediction in answer["predictions"]]
