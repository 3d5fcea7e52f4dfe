"""What ``/openapi.json`` says is what the server does: schemathesis generates requests from
the served document (examples, boundary/negative coverage and fuzzing) against a real uvicorn
on 127.0.0.1, and validates every response, 2xx, 4xx or 5xx, with all its checks: no 5xx,
only declared statuses, content types and body shapes, schema-valid data accepted and
schema-invalid data refused.

Sized for CI (a fixed seed, deterministic generation, a few dozen cases per operation): about
ten seconds per bundle after training. The two bundles cover every field type.
"""

from __future__ import annotations

from collections import Counter

import pytest
import schemathesis
import schemathesis.engine
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import Status, events

from serving_helpers import serve_config, serving_in_thread

pytestmark = pytest.mark.slow
TOKEN = "conformance-token"
# 413 is a declared refusal (the body over max_body_bytes): JSON Schema cannot express a
# byte limit, so a list of max_records full records is schema-valid and still too large
_REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]
CONFIG = {
    "seed": 20261203,
    "headers": {"Authorization": f"Bearer {TOKEN}"},
    "generation": {"max-examples": 30, "deterministic": True, "database": "none"},
    "phases": {"examples": {"enabled": True}, "coverage": {"enabled": True}, "fuzzing": {"enabled": True}},
    "checks": {
        "negative_data_rejection": {"expected-statuses": _REFUSALS},
        "positive_data_acceptance": {"expected-statuses": ["2xx", "401", "403", "404", "409", "413", "429"]},
    },
}


def _describe(recorder, case_id: str, check) -> str:
    """The failed check, the request (as curl) and what the server answered."""
    interaction = recorder.interactions.get(case_id)
    answer = interaction.response.content[:300] if interaction and interaction.response else b""
    return (
        f"{recorder.label}: {check.name}: {check.failure_info.failure.title}\n"
        f"{check.failure_info.code_sample[:600]}\n-> {answer!r}"
    )


def _conformance_failures(trained) -> tuple[list[str], Counter]:
    """Serve the session's ``trained`` bundle, run schemathesis against it; returns the
    failures (one line each) and the response statuses seen."""
    from tabpipe.serving.app import create_app

    app = create_app(serve_config(trained.ref, trained.registry, f"admin_token={TOKEN}"))
    failures: list[str] = []
    statuses: Counter = Counter()
    with serving_in_thread(app) as url:
        schema = schemathesis.openapi.from_url(
            f"{url}/openapi.json", config=SchemathesisConfig.from_dict(CONFIG)
        )
        for event in schemathesis.engine.from_schema(schema).execute():
            if isinstance(event, (events.ScenarioFinished, events.FuzzScenarioFinished)):
                recorder = event.recorder
                for interaction in recorder.interactions.values():
                    if interaction.response is not None:
                        statuses[interaction.response.status_code] += 1
                failures += [
                    _describe(recorder, case_id, check)
                    for case_id, checks in recorder.checks.items()
                    for check in checks
                    if check.status == Status.FAILURE and check.failure_info is not None
                ]
            elif isinstance(event, (events.NonFatalError, events.FatalError)):
                failures.append(f"engine error: {getattr(event, 'value', None) or event.exception!r}")
            elif isinstance(event, events.EngineFinished):
                failures += [f"{f.operation}: {f.title}: {f.message}" for f in event.failures]
    return failures, statuses


def test_churn_server_conforms_to_its_openapi(binary_bundle) -> None:
    """booleans, numbers, categoricals and an id column"""
    failures, statuses = _conformance_failures(binary_bundle)
    assert not failures, "\n".join(sorted(set(failures)))
    assert statuses[200] > 20 and statuses[422] > 20, statuses  # both readings were exercised
    assert not [s for s in statuses if s >= 500], statuses


def test_weather_server_conforms_to_its_openapi(multiclass_bundle) -> None:
    """a datetime column (ISO-8601 pattern within pandas' range) and a multiclass label"""
    failures, statuses = _conformance_failures(multiclass_bundle)
    assert not failures, "\n".join(sorted(set(failures)))
    assert statuses[200] > 20 and statuses[422] > 20, statuses
    assert not [s for s in statuses if s >= 500], statuses
