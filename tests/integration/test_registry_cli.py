"""What the registry tells a user (`tabpipe registry list/show`), deleting versions, and
the registration policy: registering is a deliberate act."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT, cli_env, compose_config
from registry_helpers import registry_cli, trained_bundle
from tabpipe.export.registry import Registry, RegistryError
from tabpipe.training.export_step import register, registration


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    return trained_bundle(tmp_path_factory)


@pytest.fixture
def registered(bundle: Path, tmp_path: Path) -> dict:
    """Two versions registered as a training run registers them; v1 is production."""
    run_dir = tmp_path / "run"
    cfg = compose_config(["model=linear"], run_dir)
    entries = [register(cfg, bundle, run_dir) for _ in range(2)]
    registry = Registry(cfg.registry.root)
    registry.promote("telco_churn", 1, "production")
    metadata = json.loads((bundle / "metadata.json").read_text())
    metrics = json.loads((bundle / "metrics.json").read_text())
    return {
        "root": registry.root,
        "entries": entries,
        "metadata": metadata,
        "metrics": metrics,
        "run": run_dir,
    }


def test_list_shows_model_metric_date_commit_data_source_and_aliases(registered: dict, capsys) -> None:
    code, out, _ = registry_cli(capsys, "--root", str(registered["root"]), "list")
    assert code == 0
    header, first, second = out.splitlines()
    assert header.split("  ")[0] == "version" and "primary test metric" in header and "aliases" in header
    meta = registered["metadata"]
    auc = f"auc {registered['metrics']['test/auc']:.4f}"
    for row, alias in ((first, "production"), (second, "-")):
        assert auc in row and " linear " in row
        assert meta["git"]["commit"][:10] in row and meta["dataset"]["sha256"][:12] in row
        assert meta["ended_at"][:16].replace("T", " ") in row
        assert f"run {registered['run']}" in row and row.endswith(alias)
    assert first.startswith("telco_churn:1") and second.startswith("telco_churn:2")
    code, out, _ = registry_cli(capsys, "--root", str(registered["root"]), "list", "--json")
    rows = json.loads(out)["versions"]
    assert [(r["name"], r["version"], r["aliases"]) for r in rows] == [
        ("telco_churn", 1, ["production"]),
        ("telco_churn", 2, []),
    ]
    assert rows[0]["metric"] == "test/auc" and rows[0]["value"] == registered["metrics"]["test/auc"]
    assert rows[0]["source"] == {"kind": "run", "run_dir": str(registered["run"])}
    assert (
        rows[0]["git_commit"] == meta["git"]["commit"] and rows[0]["data_sha256"] == meta["dataset"]["sha256"]
    )
    assert rows[0]["model"] == "linear" and rows[0]["trained_at"] == meta["ended_at"]


def test_show_prints_a_table_and_json(registered: dict, capsys) -> None:
    root = str(registered["root"])
    code, out, _ = registry_cli(capsys, "--root", root, "show", "telco_churn@production")
    assert code == 0
    fields = {
        line.split("  ")[0]: line.split("  ", 1)[1].strip() for line in out.splitlines()[1:] if "  " in line
    }
    assert fields["version"] == "telco_churn:1" and fields["aliases"] == "production"
    assert fields["model"] == "linear" and fields["source"] == f"run {registered['run']}"
    assert fields["test/auc"] == f"{registered['metrics']['test/auc']:.4f}"
    code, out, _ = registry_cli(capsys, "--root", root, "show", "telco_churn:2", "--json")
    document = json.loads(out)
    assert document["version"] == 2 and document["metric"] == "test/auc" and document["aliases"] == []
    code, _, err = registry_cli(capsys, "--root", root, "show", "telco_churn@nope")
    assert code == 2 and err.strip() == (
        "error: telco_churn@nope: alias 'nope' is not set for model 'telco_churn' (aliases: production)"
    )


def test_delete_and_gc_never_touch_an_aliased_version(bundle: Path, tmp_path: Path, capsys) -> None:
    root = tmp_path / "registry"
    registry = Registry(root)
    for _ in range(5):
        registry.register("churn", bundle)
    registry.promote("churn", 2, "production")
    code, _, err = registry_cli(capsys, "--root", str(root), "delete", "churn:2")
    assert code == 2 and err.strip() == (
        "error: churn:2: aliased as production; move the alias first, nothing deleted"
    )
    code, out, _ = registry_cli(capsys, "--root", str(root), "delete", "churn:5")
    assert code == 0 and out.strip() == "deleted churn:5"
    assert registry.register("churn", bundle) == 6  # a deleted number is never given out again
    code, out, _ = registry_cli(capsys, "--root", str(root), "gc", "churn", "--keep", "1", "--dry-run")
    assert out.strip() == "churn: would delete [1, 3, 4]; kept [1, 2, 3, 4, 6]"
    code, out, _ = registry_cli(capsys, "--root", str(root), "gc", "churn", "--keep", "1")
    assert code == 0 and out.strip() == "churn: deleted [1, 3, 4]; kept [2, 6]"
    assert registry.aliases("churn") == {"production": 2}
    assert [d.version for d in registry.deletions("churn")] == [5, 1, 3, 4]
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck")
    assert code == 0 and "note: churn: deleted versions [1, 3, 4, 5]" in out
    with pytest.raises(RegistryError, match=r"churn:9: no such version"):
        registry.delete("churn", 9)


def test_fsck_reports_bad_versions_and_aliases(bundle: Path, tmp_path: Path, capsys) -> None:
    root = tmp_path / "registry"
    registry = Registry(root)
    for _ in range(2):
        registry.register("churn", bundle)
    (root / "churn" / "2" / "metrics.json").write_text("{}")
    (root / "churn" / "aliases.json").write_text('{"production": 7}')
    code, out, _ = registry_cli(capsys, "--root", str(root), "fsck", "--repair")
    assert code == 1
    assert "problem: churn: version 2: bundle" in out and "file metrics.json fails its checksum" in out
    assert "problem: churn: alias 'production' -> 7: no such version" in out
    assert out.splitlines()[-1] == f"{root}: 2 finding(s), 0 repaired, 2 left"


# -- registration policy -------------------------------------------------------------------


@pytest.mark.parametrize("preset", ["fdr", "limit", "overfit"])
def test_debug_presets_never_register(preset: str, tmp_path: Path) -> None:
    for extra in ([], ["registry.register=true"]):
        assert registration(compose_config([f"debug={preset}", *extra], tmp_path / "run")) == (
            False,
            "a debug run (task_name=debug) never registers",
        )


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ([], (True, "a single run")),
        (["registry.register=false"], (False, "registry.register=false")),
        (["optuna.trial_number=3", "registry.register=true"], (False, "a sweep trial never registers")),
        (["registry.name=null", "registry.register=true"], (False, "registry.name is null")),
    ],
)
def test_registration_policy(overrides: list[str], expected: tuple, tmp_path: Path) -> None:
    assert registration(compose_config(overrides, tmp_path / "run")) == expected


def test_a_dvc_experiment_registers_only_when_asked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tabpipe.training.export_step import registration_source

    monkeypatch.setenv("DVC_STAGE", "export")
    assert registration(compose_config([], tmp_path / "run"))[0]  # `dvc repro` registers
    monkeypatch.setenv("DVC_EXP_BASELINE_REV", "0" * 40)
    monkeypatch.setenv("DVC_EXP_NAME", "gusty-bunt")
    assert registration(compose_config([], tmp_path / "run")) == (
        False,
        "a `dvc exp run` registers only with -S registry.register=true",
    )
    assert registration(compose_config(["registry.register=true"], tmp_path / "run"))[0]
    source = registration_source(compose_config([], tmp_path / "run"), tmp_path / "run")
    assert source["kind"] == "dvc" and source["experiment"] == "gusty-bunt" and source["stage"] == "export"


@pytest.mark.slow
def test_a_plain_multirun_registers_only_with_registry_register_true(tmp_path: Path) -> None:
    """`python train.py -m seed=0,1` registers nothing; with registry.register=true each job does."""
    env = cli_env() | {"TABPIPE_REGISTRY": str(tmp_path / "registry")}

    def multirun(*extra: str) -> subprocess.CompletedProcess:
        args = [
            "-m",
            "model=linear",
            "logger=none",
            "eval.plots=false",
            f"hydra.sweep.dir={tmp_path / 'sweep'}",
        ]
        args += extra
        done = subprocess.run(
            [sys.executable, str(ROOT / "train.py"), *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done

    first = multirun("seed=0,1")
    assert Registry(tmp_path / "registry").versions("telco_churn") == []
    assert (
        first.stdout.count("not registered: a multirun job registers only with registry.register=true")
        + (first.stderr.count("not registered: a multirun job registers only with registry.register=true"))
        == 2
    )
    multirun("seed=0", "registry.register=true")
    registry = Registry(tmp_path / "registry")
    assert registry.versions("telco_churn") == [1]
    source = json.loads((registry.resolve("telco_churn:1") / "metadata.json").read_text())["registry"][
        "source"
    ]
    assert source["kind"] == "multirun" and source["job"] == 0


def test_commands_on_an_unknown_model_create_nothing(tmp_path: Path, capsys) -> None:
    root = tmp_path / "registry"
    root.mkdir()
    commands = (["promote", "nosuch:1", "prod"], ["delete", "nosuch:1"], ["gc", "nosuch", "--keep", "1"])
    for args in commands:
        code, _, err = registry_cli(capsys, "--root", str(root), *args)
        assert code == 2 and err.strip() == f"error: nosuch: no such model in {root} (models: none)"
    assert list(root.iterdir()) == []


def test_a_sweeps_best_params_rerun_is_listed_as_coming_from_the_sweep(tmp_path: Path) -> None:
    """The experiment file a sweep writes for its best trial carries the study as
    tracking.group; a run of it records the sweep as its source."""
    from hydra import compose, initialize_config_dir
    from hydra.core.hydra_config import HydraConfig

    from helpers import CONF
    from tabpipe.training.export_step import registration_source

    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "churn_study_best.yaml").write_text(
        "# @package _global_\ntracking:\n  group: churn_study\nmodel:\n  C: 0.5\n"
    )
    overrides = ["model=linear", "experiment=churn_study_best", f"hydra.searchpath=[file://{tmp_path}]"]
    with initialize_config_dir(str(CONF), version_base="1.3"):
        cfg = compose("train", overrides=overrides, return_hydra_config=True)
    HydraConfig.instance().set_config(cfg)
    try:
        source = registration_source(cfg, tmp_path / "run")
    finally:
        HydraConfig.instance().cfg = None
    assert source == {
        "kind": "sweep",
        "study": "churn_study",
        "experiment": "churn_study_best",
        "run_dir": str(tmp_path / "run"),
    }


def test_versions_registered_without_a_recorded_metric_show_the_tasks_default(
    bundle: Path, tmp_path: Path, capsys
) -> None:
    Registry(tmp_path / "registry").register("churn", bundle)  # as registries before this release
    code, out, _ = registry_cli(capsys, "--root", str(tmp_path / "registry"), "list", "--json")
    assert code == 0
    (row,) = json.loads(out)["versions"]
    metrics = json.loads((bundle / "metrics.json").read_text())
    assert row["metric"] == "test/auc" and row["value"] == metrics["test/auc"]
