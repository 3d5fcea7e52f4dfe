"""``reference/http-api.md``: the server's own OpenAPI document, rendered as Markdown.

At build time a small real model is trained on the bundled Telco churn data (XGBoost, 10
rounds, a few seconds) into a temporary registry, and :func:`tabpipe.serving.app.create_app`
builds the app that ``tabpipe serve`` would; ``app.openapi()`` is what ``/openapi.json``
answers. The request model is generated from the bundle's schema.json, so the page shows that
bundle's fields as an example of any bundle's."""

from __future__ import annotations

import tempfile
from functools import cache
from pathlib import Path
from typing import Any

from tabpipe_docgen.json_schema import anchor_link, definitions, type_text
from tabpipe_docgen.markdown import code, prose, table

# small and quiet: the example bundle only needs its schema; the gates and parity still run
TRAIN_OVERRIDES = (
    "model=xgb",
    "model.n_estimators=10",
    "logger=none",
    "callbacks=none",
    "eval.plots=false",
    "eval.importance.permutation=false",
    "eval.segments.enabled=false",
    "trainer.enable_progress_bar=false",
)
_PREFIX = "schema"


@cache  # once per process: `mkdocs serve` rebuilds with the modules it imported first anyway
def example_openapi(config_dir: Path) -> tuple[dict[str, Any], str]:
    """``(the OpenAPI document, the served model's ref)`` of an app serving a bundle trained now."""
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from tabpipe.config.app_schema import ServeConfig
    from tabpipe.config.store import register_configs
    from tabpipe.serving.app import create_app
    from tabpipe.training.train import run_training

    register_configs()
    with tempfile.TemporaryDirectory(prefix="tabpipe-docs-") as tmp:
        registry = Path(tmp) / "registry"
        where = [
            f"paths.root_dir={tmp}",
            f"paths.output_dir={Path(tmp) / 'run'}",
            f"registry.root={registry}",
        ]
        overrides = [*TRAIN_OVERRIDES, *where]
        with initialize_config_dir(str(config_dir), version_base="1.3"):
            cfg = compose("train", overrides=overrides)
        result = run_training(cfg)
        ref = f"{result.registered['name']}:{result.registered['version']}"
        serve = OmegaConf.structured(ServeConfig(bundle=ref, registry_root=str(registry)))
        return create_app(serve).openapi(), ref


def _body(content: dict[str, Any], link: Any) -> str:
    return "; ".join(
        f"{code(kind)}: {type_text(media.get('schema', {}), link)}" for kind, media in content.items()
    )


def _operation(path: str, method: str, op: dict[str, Any], link: Any) -> list[str]:
    out = [f"### `{method.upper()} {path}`", ""]
    if op.get("description") or op.get("summary"):
        out += [prose(op.get("description") or op["summary"]), ""]
    if "requestBody" in op:
        out += ["**Request body**: " + _body(op["requestBody"].get("content", {}), link), ""]
    rows = [
        (code(status), prose(response.get("description", "")), _body(response.get("content", {}), link))
        for status, response in sorted(op.get("responses", {}).items())
    ]
    return [*out, table(("status", "meaning", "body"), rows), ""]


def render(spec: dict[str, Any], ref: str) -> str:
    """The page for ``spec``, the OpenAPI document of an app serving ``ref``."""
    link = anchor_link(_PREFIX)
    out = [
        "# HTTP API",
        "",
        "`tabpipe serve bundle=<ref>` answers these endpoints (FastAPI, ONNX Runtime). This page",
        "is rendered at every docs build from the server's own OpenAPI document, for a model",
        f"trained then on the bundled Telco churn data ({code(ref)}). The request fields are",
        "generated from the served bundle's `schema.json`, so another bundle has its own inputs",
        "and outputs; the running server answers its exact document at `GET /openapi.json`",
        f"(and `/docs`; OpenAPI {spec['openapi']}). A refused request gets a 4xx whose body names",
        "the field and the rule, and the server keeps serving.",
        "",
        "## Endpoints",
        "",
    ]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            out += _operation(path, method, op, link)
    out += ["## Schemas", "", *definitions(spec.get("components", {}).get("schemas", {}), _PREFIX)]
    return "\n".join(out)
