"""Make this a claim (/search/claim): a sentence of the archive added to a catalog file of
the catalog's folder (catalog_writer.py), then its echoes already stored (echoes.py)."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from claimwatch.exceptions import CatalogError
from claimwatch.matching.catalog import MAX_ID_LENGTH, Claim, load_catalog
from claimwatch.web.catalog_writer import add_claim, catalog_files, target
from claimwatch.web.data import Table, config_of
from claimwatch.web.echoes import MAX_CANDIDATES, find_echoes
from claimwatch.web.exports import page
from claimwatch.web.security import checked_form

ECHO_COLUMNS = ["article_url", "title", "outlet", "seen_at", "score", "matched_text"]
SLUG_LENGTH = 60


def slug(text: str) -> str:
    """An id from a claim's text: its first words, lowercase ASCII, joined by hyphens."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[a-z0-9]+", ascii_text.lower())
    out = ""
    for word in words:
        if len(out) + len(word) + 1 > SLUG_LENGTH:
            break
        out = f"{out}-{word}" if out else word
    return out or "claim"


def _folder(request: Request) -> Path:
    return config_of(request).claims.parent


def _form(
    request: Request, fields: dict[str, str], message: str = "", status: int = 200
) -> Response:
    config = config_of(request)
    files = catalog_files(_folder(request))
    context = {
        "fields": fields,
        "files": files,
        "folder": str(_folder(request)),
        "configured": config.claims.name,
        "message": message,
    }
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "new_claim.html.j2", context, status_code=status)


async def claim_form(request: Request) -> Response:
    params = request.query_params
    text = " ".join(params.get("text", "").split())[:2000]
    fields = {
        "text": text,
        "id": slug(text),
        "tags": "",
        "file": config_of(request).claims.name,
        "new_file": "",
        "from": params.get("from", ""),
        "q": params.get("q", ""),
    }
    return _form(request, fields)


async def add(request: Request) -> Response:
    form = await checked_form(request)
    fields = {
        name: str(form.get(name, "")).strip()
        for name in ("text", "id", "tags", "file", "new_file", "from", "q")
    }
    name = fields["new_file"] or fields["file"]
    try:
        claim = Claim.model_validate(
            {
                "id": fields["id"][: MAX_ID_LENGTH + 1],
                "text": fields["text"],
                "tags": fields["tags"],
            }
        )
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"])
        return _form(request, fields, f"{where}: {error['msg']}", 400)
    try:
        path = await run_in_threadpool(add_claim, _folder(request), name, claim)
    except CatalogError as exc:
        return _form(request, fields, str(exc).splitlines()[0], 400)
    # To the echoes' own page (a refresh then adds nothing twice; the page can be shared).
    where = urlencode({"claim": claim.id, "file": path.name, "q": fields["q"], "added": "1"})
    return RedirectResponse(f"/search/echoes?{where}", status_code=303)


async def echoes_page(request: Request) -> Response:
    """A catalog claim's echoes already stored (the claim read from its file)."""
    params = request.query_params
    config = config_of(request)
    path = target(_folder(request), params.get("file", config.claims.name))
    if not path.exists():
        raise HTTPException(404, f"{path.name}: no such catalog file")
    try:
        claim = (await run_in_threadpool(load_catalog, path)).get(params.get("claim", ""))
    except KeyError:
        raise HTTPException(404, f"{path.name} has no such claim") from None
    echoes = await run_in_threadpool(find_echoes, config, claim)
    context: dict[str, Any] = {
        "claim": claim,
        "file": path.name,
        "added": params.get("added") == "1",
        "configured": path.resolve() == config.claims.resolve(),
        "echoes": echoes,
        "candidates": MAX_CANDIDATES,
        "q": params.get("q", ""),
    }
    return page(request, "claim_added.html.j2", context, Table(ECHO_COLUMNS, echoes), "echoes")


routes = [
    Route("/search/claim", claim_form, methods=["GET"], name="claim_form"),
    Route("/search/claim", add, methods=["POST"], name="claim_add"),
    Route("/search/echoes", echoes_page, name="echoes"),
]
