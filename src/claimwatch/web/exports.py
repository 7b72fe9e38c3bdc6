"""A page as HTML, or what it shows as CSV or JSON (`?format=csv|json`)."""

from __future__ import annotations

from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from claimwatch.output.tables import render_csv, render_json
from claimwatch.web.data import Table

FORMATS = ("html", "csv", "json")


def export_format(request: Request) -> str:
    fmt = request.query_params.get("format", "html")
    if fmt not in FORMATS:
        raise HTTPException(400, f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    return fmt


def page(
    request: Request, template: str, context: dict[str, Any], table: Table, name: str
) -> Response:
    """`template` with `context`, or `table` as a CSV or JSON download named `name`."""
    fmt = export_format(request)
    if fmt == "csv":
        body = render_csv(table.columns, table.cells())
        return Response(body, media_type="text/csv; charset=utf-8", headers=_download(name, "csv"))
    if fmt == "json":
        body = render_json(table.columns, table.cells())
        return Response(body, media_type="application/json", headers=_download(name, "json"))
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, {**context, "export_name": name})


def _download(name: str, suffix: str) -> dict[str, str]:
    return {"Content-Disposition": f'inline; filename="{name}.{suffix}"'}
