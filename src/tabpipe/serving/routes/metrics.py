"""``GET /metrics``: the Prometheus text exposition of the app's registry."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from tabpipe.serving import contract
from tabpipe.serving.state import Context

router = APIRouter()


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    responses={
        200: {
            "description": "Prometheus text exposition format",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        500: contract.INTERNAL_JSON,  # not text/plain like the 200
    },
)
async def prometheus_metrics(ctx: Context) -> Response:
    return Response(generate_latest(ctx.metrics.registry), media_type=CONTENT_TYPE_LATEST)
