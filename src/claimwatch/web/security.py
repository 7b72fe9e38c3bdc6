"""Who is asking, and what a request must carry to change anything.

- Every response forbids scripts and styles from anywhere but the workbench itself and
  inline scripts altogether, so markup stored in an article cannot run even if it were
  ever left unescaped.
- Every state-changing request (POST) must carry the session's CSRF token in its form
  (`checked_form`), and come from the workbench's own origin when the browser says
  where it comes from.
- With sign-in on, requests without a signed-in user are refused (pages send the
  browser to the sign-in form).
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from urllib.parse import quote, urlsplit

from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from claimwatch.web.config import WorkbenchConfig

CSRF_FIELD = "csrf_token"
# Pages that answer without a signed-in user: the sign-in form and the stylesheet/script.
PUBLIC = ("/login", "/static/")
POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ]
)
HEADERS = {
    "Content-Security-Policy": POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Following a stored article's link must not tell its site what the analyst looked at;
    # the workbench's own pages still name their origin (no-referrer would make a
    # browser send `Origin: null` with every form).
    "Referrer-Policy": "same-origin",
}

Next = Callable[[Request], Awaitable[Response]]


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        request.session["csrf"] = token
    return token


async def checked_form(request: Request) -> FormData:
    """The request's form, refused (403) without the session's CSRF token."""
    form = await request.form()
    sent = form.get(CSRF_FIELD)
    expected = request.session.get("csrf")
    if not isinstance(sent, str) or not isinstance(expected, str):
        raise HTTPException(403, "missing CSRF token: reload the page and try again")
    if not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "stale CSRF token: reload the page and try again")
    return form


def user_of(request: Request) -> str:
    """Who decides, as recorded with each decision."""
    user = getattr(request.state, "user", None)
    if not user:
        raise HTTPException(401, "sign in first")
    return str(user)


class Guard(BaseHTTPMiddleware):
    """Security headers on every response; the user of each request; cross-origin
    POSTs refused before they reach a page."""

    def __init__(self, app: object, config: WorkbenchConfig) -> None:
        super().__init__(app)  # type: ignore[arg-type]
        self.config = config

    async def dispatch(self, request: Request, call_next: Next) -> Response:
        response = await self._answer(request, call_next)
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    async def _answer(self, request: Request, call_next: Next) -> Response:
        if request.method == "POST" and not _same_origin(request):
            return PlainTextResponse("cross-origin request refused", status_code=403)
        user = self._user(request)
        request.state.user = user
        if user is None and not request.url.path.startswith(PUBLIC):
            return _sign_in_first(request, self.config)
        return await call_next(request)

    def _user(self, request: Request) -> str | None:
        if self.config.auth == "none":
            return self.config.reviewer
        if self.config.auth == "header":
            name = request.headers.get(self.config.user_header, "").strip()
            return name or None
        signed_in = request.session.get("user")
        return signed_in if isinstance(signed_in, str) and signed_in else None


def _same_origin(request: Request) -> bool:
    """Whether a POST comes from a page of this server (or the browser does not say)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _sign_in_first(request: Request, config: WorkbenchConfig) -> Response:
    if config.auth == "header":
        message = (
            f"not signed in: the proxy in front of the workbench must set {config.user_header}"
        )
        return PlainTextResponse(message, status_code=401)
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if wants_page:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)
    return PlainTextResponse("sign in first: POST /login", status_code=401)
