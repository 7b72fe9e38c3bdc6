"""A digest as text: plain, Markdown (or Slack's dialect) or a self-contained HTML page."""

from __future__ import annotations

from claimwatch import __version__
from claimwatch.delivery.config import Format
from claimwatch.delivery.model import Digest
from claimwatch.output.render import render_html, render_text

_TEMPLATES = {
    Format.text: "digest.txt.j2",
    Format.markdown: "digest.md.j2",
    Format.html: "digest.html.j2",
}


def render_digest(digest: Digest, fmt: Format | str, *, style: str = "markdown") -> str:
    """The digest as plain text, Markdown (or a chat dialect) or a self-contained HTML page."""
    fmt = Format(fmt)
    context = {"d": digest, "subject": subject_line(digest)}
    if fmt is Format.html:
        return render_html(_TEMPLATES[fmt], version=__version__, title=digest.title, **context)
    if fmt is Format.markdown and style == "slack":
        return render_text("digest.slack.j2", **context)
    return render_text(_TEMPLATES[fmt], **context)


def subject_line(digest: Digest) -> str:
    if digest.empty:
        return f"{digest.title}: nothing new"
    matches = f"{digest.matches} new match{'es' if digest.matches != 1 else ''}"
    claims = f"{digest.claims} claim{'s' if digest.claims != 1 else ''}"
    return f"{digest.title}: {matches} of {claims}"
