"""Signing in and out, when the workbench keeps its own users (auth "password")."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from claimwatch.web.data import config_of
from claimwatch.web.security import checked_form
from claimwatch.web.users import check_password


def _local(target: str | None) -> str:
    """Where to go after signing in: a path of this server only, never another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


async def login_form(request: Request) -> Response:
    config = config_of(request)
    if config.auth != "password":
        return RedirectResponse("/", status_code=303)
    context = {"next": _local(request.query_params.get("next")), "failed": False, "name": ""}
    return request.app.state.templates.TemplateResponse(request, "login.html.j2", context)


async def login(request: Request) -> Response:
    config = config_of(request)
    if config.auth != "password" or config.users_file is None:
        raise HTTPException(404, "this workbench has no sign-in: it trusts its host or proxy")
    form = await checked_form(request)
    name, password = str(form.get("name", "")), str(form.get("password", ""))
    target = _local(str(form.get("next", "")))
    if not await run_in_threadpool(check_password, config.users_file, name, password):
        context = {"next": target, "failed": True, "name": name}
        return request.app.state.templates.TemplateResponse(
            request, "login.html.j2", context, status_code=401
        )
    request.session.clear()  # a new session: no token or user from before survives
    request.session["user"] = name
    return RedirectResponse(target, status_code=303)


async def logout(request: Request) -> Response:
    await checked_form(request)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


routes = [
    Route("/login", login_form, methods=["GET"], name="login_form"),
    Route("/login", login, methods=["POST"], name="login"),
    Route("/logout", logout, methods=["POST"], name="logout"),
]
