"""The review queue (/review): one pending suggestion at a time, the claim beside its
sentence, decided by button or key; and (/review/list) the pending ones of a filter as
a table, decided in bulk. Decisions go through the library the CLI uses; after each,
the browser is sent on (303) to the next one with the same filter."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from claimwatch.output.review_blocks import why_said
from claimwatch.store.reviews import DECISIONS
from claimwatch.web import decisions
from claimwatch.web.data import Table, config_of
from claimwatch.web.exports import export_format, page
from claimwatch.web.queue import (
    COLUMNS,
    Filter,
    at,
    catalog,
    export_table,
    filter_of,
    listed,
    pending,
    skip_of,
)
from claimwatch.web.security import checked_form, user_of

# Rows of the bulk list shown at once (its exports hold every one).
LIST_LIMIT = 500
FLASH = "review_flash"


async def review_page(request: Request) -> Response:
    chosen = filter_of(request.query_params)
    skip = skip_of(request.query_params)
    fmt = export_format(request)
    if fmt != "html":
        return await _export(request, chosen, fmt)
    row, place, total = await at(request, chosen, skip)
    claims = await catalog(request)
    context = {
        **_common(request, chosen, claims, total),
        "row": row,
        "at": place,
        "wrapped": row is not None and place != skip,
        "next_url": chosen.url("/review", skip=place + 1 if place + 1 < total else 0),
        "why": why_said(row) if row else [],
        "tags": next((c["tags"] for c in claims if row and c["id"] == row["claim_id"]), []),
        "article_page": _article_page(row),
    }
    return page(request, "review.html.j2", context, Table(list(COLUMNS), []), "pending")


async def list_page(request: Request) -> Response:
    chosen = filter_of(request.query_params)
    fmt = export_format(request)
    if fmt != "html":
        return await _export(request, chosen, fmt)
    rows, total = await listed(request, chosen, LIST_LIMIT)
    claims = await catalog(request)
    context = {**_common(request, chosen, claims, total), "rows": rows}
    return page(request, "review_list.html.j2", context, Table(list(COLUMNS), []), "pending")


async def _export(request: Request, chosen: Filter, fmt: str) -> Response:
    """Every pending suggestion of the filter, as `claimwatch review --format json|csv`
    lists them (the pages themselves read only what they show)."""
    rows = await pending(request, chosen)
    return page(request, "review.html.j2", {}, export_table(rows, fmt), "pending")


def _common(
    request: Request, chosen: Filter, claims: list[dict[str, Any]], total: int
) -> dict[str, Any]:
    """What both pages show: the filter, the catalog for the claim pickers, the count,
    and the line saying what the last decision recorded."""
    return {
        "filter": chosen,
        "claims": claims,
        "total": total,
        "flash": request.session.pop(FLASH, None),
        "unknown_claim": bool(chosen.claim) and all(c["id"] != chosen.claim for c in claims),
        "queue_url": chosen.url("/review"),
        "list_url": chosen.url("/review/list"),
    }


def _article_page(row: dict[str, Any] | None) -> str:
    return "/article?" + urlencode({"url": row["article_url"]}) if row else ""


def _tell(request: Request, outcome: decisions.Outcome) -> None:
    request.session[FLASH] = {"text": outcome.text, "recorded": outcome.recorded}


def _refuse(request: Request, text: str, target: str) -> Response:
    """Back to `target`, saying why nothing was recorded."""
    _tell(request, decisions.Outcome(f"{text}: nothing recorded", False))
    return RedirectResponse(target, status_code=303)


def _text(form: Any, name: str) -> str:
    return str(form.get(name) or "").strip()


async def decide_one(request: Request) -> Response:
    """Confirm, reject or move the suggestion the form names; then the next one."""
    form = await checked_form(request)
    reviewer = user_of(request)
    chosen, skip = filter_of(form), skip_of(form)
    suggestion_id, action = _text(form, "id"), _text(form, "action")
    note = _text(form, "note") or None
    if not suggestion_id:
        raise HTTPException(400, "no suggestion named: reload the review page")
    if action in ("confirm", "reject"):
        work = decisions.one(suggestion_id, action, reviewer, note)
    elif action == "move":
        claim = _text(form, "to")
        if not claim:
            return _refuse(
                request, "choose the claim to move it to", chosen.url("/review", skip=skip)
            )
        work = decisions.moved(suggestion_id, claim, reviewer, note)
    else:
        raise HTTPException(400, f"action {action!r}: use confirm, reject or move")
    _tell(request, await decisions.record(config_of(request), work))
    # The decided one leaves the queue: the same position now holds the next one.
    return RedirectResponse(chosen.url("/review", skip=skip), status_code=303)


async def decide_many(request: Request) -> Response:
    """Confirm or reject the checked suggestions, or every one of the filter."""
    form = await checked_form(request)
    reviewer = user_of(request)
    chosen = filter_of(form)
    note = _text(form, "note") or None
    decision, _, scope = _text(form, "action").partition("-")
    if decision not in DECISIONS or scope not in ("selected", "all"):
        raise HTTPException(
            400, "action: use confirm-selected, reject-selected, confirm-all or reject-all"
        )
    back = chosen.url("/review/list")
    if scope == "all":
        if not chosen.params():
            return _refuse(request, "deciding all needs a filter (a claim or a score)", back)
        # The number the reviewer saw: the filter must still select that many.
        shown = _text(form, "count")
        if not shown.isdigit():
            raise HTTPException(400, "count: the number of pending suggestions shown")
        work = decisions.of_filter(chosen, int(shown), decision, reviewer, note)
    else:
        ids = [str(i) for i in form.getlist("id") if str(i).strip()]
        if not ids:
            return _refuse(request, "no suggestion selected", back)
        work = decisions.many(ids, decision, reviewer, note)
    _tell(request, await decisions.record(config_of(request), work))
    return RedirectResponse(back, status_code=303)


routes = [
    Route("/review", review_page, methods=["GET"], name="review"),
    Route("/review", decide_one, methods=["POST"], name="review_decide"),
    Route("/review/list", list_page, methods=["GET"], name="review_list"),
    Route("/review/list", decide_many, methods=["POST"], name="review_decide_many"),
]
