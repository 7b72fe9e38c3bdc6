"""The workbench application: its pages, templates, static files and safeguards."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from claimwatch import __version__
from claimwatch.exceptions import ClaimwatchError, WarehouseError
from claimwatch.output.render import safe_link
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.pages import PAGES
from claimwatch.web.security import CSRF_FIELD, Guard, csrf_token

STATIC = Path(__file__).parent / "static"


def create_app(config: WorkbenchConfig) -> Starlette:
    """The workbench over `config.db`: every page, each a URL that can be shared."""
    routes: list[BaseRoute] = [Mount("/static", StaticFiles(directory=STATIC), name="static")]
    for module in PAGES:
        routes += module.routes
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(
                SessionMiddleware,
                secret_key=config.secret,
                session_cookie="claimwatch_session",
                same_site="strict",
                https_only=config.secure_cookies,
            ),
            Middleware(Guard, config=config),
        ],
        exception_handlers={
            HTTPException: _http_error,
            WarehouseError: _warehouse_error,
            ClaimwatchError: _user_error,
        },
    )
    app.state.config = config
    app.state.templates = templates()
    return app


def templates() -> Jinja2Templates:
    env = Environment(
        loader=PackageLoader("claimwatch.web", "templates"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals.update(
        version=__version__, csrf_token=csrf_token, csrf_field=CSRF_FIELD, safe_link=safe_link
    )
    return Jinja2Templates(env=env)


def _error(request: Request, status: int, message: str) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(
        request, "error.html.j2", {"status": status, "message": message}, status_code=status
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(request, exc.status_code, str(exc.detail))


async def _warehouse_error(request: Request, exc: Exception) -> Response:
    return _error(request, 503, str(exc))


async def _user_error(request: Request, exc: Exception) -> Response:
    return _error(request, 400, str(exc))
