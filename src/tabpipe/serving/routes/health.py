"""``GET /health`` (liveness) and ``GET /ready`` (the models are loaded and warmed up)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from tabpipe.serving import contract
from tabpipe.serving.state import Context

router = APIRouter()


@router.get("/health", response_model=contract.HealthResponse, responses=contract.INTERNAL)
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/ready",
    response_model=contract.ReadyResponse,
    responses={503: {"model": contract.LoadingResponse, "description": "still loading"}, **contract.INTERNAL},
)
async def ready(ctx: Context) -> JSONResponse:
    state = ctx.state
    if not state.ready:
        return JSONResponse(status_code=503, content={"status": "loading"})
    models = {arm: {"name": m.name, "version": m.version} for arm, m in state.arms.items()}
    return JSONResponse(content={"status": "ready", "models": models})
