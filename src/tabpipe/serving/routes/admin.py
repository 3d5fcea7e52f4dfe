"""``POST /admin/reload``: re-resolve the served refs (a moved alias) and swap the models in,
behind the bearer ``admin_token``; a bundle that fails to load leaves the old ones serving."""

from __future__ import annotations

import hmac
import logging
from typing import Annotated

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tabpipe.errors import TabpipeError
from tabpipe.serving import contract
from tabpipe.serving.state import Context

log = logging.getLogger("tabpipe.serving.app")
router = APIRouter()
_bearer = HTTPBearer(auto_error=False, description="admin_token (or TABPIPE_ADMIN_TOKEN)")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _authorised(token: str, credentials: HTTPAuthorizationCredentials | None) -> bool:
    return credentials is not None and hmac.compare_digest(credentials.credentials.encode(), token.encode())


@router.post("/admin/reload", response_model=contract.ReloadResponse, responses=contract.RELOAD_ERRORS)
async def admin_reload(ctx: Context, credentials: Credentials) -> JSONResponse:
    token = ctx.cfg.admin_token
    if not token:
        return ctx.refuse(403, "admin_disabled", "set admin_token (or TABPIPE_ADMIN_TOKEN) to enable")
    if not _authorised(token, credentials):
        refused = ctx.refuse(401, "unauthorized", "missing or wrong bearer token")
        refused.headers["WWW-Authenticate"] = "Bearer"
        return refused
    try:
        arms = await run_in_threadpool(ctx.state.reload)
    except (TabpipeError, ValueError, OSError) as exc:  # a bundle that fails its checksum, ...
        log.warning("reload failed, still serving the loaded models: %s", exc)
        return ctx.refuse(409, "reload_failed", str(exc))
    return JSONResponse(content={"reloaded": arms})
