"""Templates and escaping for everything claimwatch writes for people: HTML, Markdown, text.

Article titles, snippets and outlet names are untrusted input (any web page can
put markup in its headline), so HTML goes through Jinja2 with autoescaping and
Markdown and chat text through the escapers below.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date, datetime
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup, escape


def safe_link(url: str | None) -> str | None:
    """The URL if it is http(s), else None: a stored link must never become `javascript:`."""
    if not url:
        return None
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


def _find(snippet: str, matched: str) -> tuple[int, int] | None:
    """Where `matched` sits in `snippet`, exactly or ignoring case."""
    if not matched:
        return None
    start = snippet.find(matched)
    if start < 0:
        start = snippet.lower().find(matched.lower())
    return (start, start + len(matched)) if start >= 0 else None


def highlight_html(snippet: str | None, matched: str | None) -> Markup:
    """The snippet, escaped, with the matched text in <mark>."""
    return Markup(_highlight(snippet, matched, escape, (Markup("<mark>"), Markup("</mark>"))))


_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def plain(text: Any) -> str:
    """One line with no control characters: a headline must not move a terminal's cursor."""
    return re.sub(r"\s+", " ", _CONTROL.sub(" ", str(text or "")))


def md_escape(text: Any) -> str:
    """Plain text made inert in Markdown: no emphasis, links, headings, tables or raw HTML."""
    value = _MD_SPECIAL.sub(r"\\\1", plain(text))
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def md_link(text: Any, url: str | None) -> str:
    link = safe_link(url)
    if not link:
        return md_escape(text)
    target = link.replace("(", "%28").replace(")", "%29").replace(" ", "%20")
    return f"[{md_escape(text)}]({target})"


def highlight_md(snippet: str | None, matched: str | None) -> str:
    return _highlight(snippet, matched, md_escape, ("**", "**"))


def highlight_text(snippet: str | None, matched: str | None) -> str:
    """Plain text: the matched words between >> and <<."""
    return _highlight(snippet, matched, plain, (">>", "<<"))


def slack_escape(text: Any) -> str:
    """Slack's mrkdwn: only &, < and > need escaping; formatting marks are neutralised."""
    value = plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # A zero-width space after each mark keeps *, _, ~ and ` from opening formatting.
    return re.sub(r"([*_~`])", "\\1\u200b", value)


def slack_link(text: Any, url: str | None) -> str:
    link = safe_link(url)
    label = slack_escape(text).replace("|", "¦")
    return f"<{link.replace('|', '%7C')}|{label}>" if link else label


def highlight_slack(snippet: str | None, matched: str | None) -> str:
    return _highlight(snippet, matched, slack_escape, ("*", "*"))


def _highlight(
    snippet: str | None, matched: str | None, escaped: Callable[[str], Any], marks: tuple[Any, Any]
) -> Any:
    """The snippet escaped for its format, with the matched text between `marks`, which
    are not escaped."""
    snippet, matched = snippet or "", matched or ""
    span = _find(snippet, matched)
    if span is None:
        return escaped(snippet or matched)
    start, end = span
    opening, closing = marks
    before, inside, after = snippet[:start], snippet[start:end], snippet[end:]
    return escaped(before) + opening + escaped(inside) + closing + escaped(after)


def when(value: Any) -> str:
    """A timestamp as analysts read it: minutes, UTC."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return "" if value is None else str(value)


def _environment(*, autoescape: bool, keep_trailing_newline: bool = False) -> Environment:
    env = Environment(
        loader=PackageLoader("claimwatch.output", "templates"),
        autoescape=autoescape,
        undefined=StrictUndefined,  # a misspelt field fails loudly instead of printing nothing
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=keep_trailing_newline,
    )
    env.filters.update(when=when, safe_link=safe_link)
    return env


@cache
def html_env() -> Environment:
    """HTML templates, autoescaped: anything not marked safe is escaped."""
    env = _environment(autoescape=True)
    env.filters.update(highlight=highlight_html)
    return env


@cache
def text_env() -> Environment:
    """Text, Markdown and chat templates: escaping is explicit, per format, via filters."""
    env = _environment(autoescape=False, keep_trailing_newline=True)
    env.filters.update(
        plain=plain,
        md=md_escape,
        md_link=md_link,
        md_highlight=highlight_md,
        text_highlight=highlight_text,
        slack=slack_escape,
        slack_link=slack_link,
        slack_highlight=highlight_slack,
    )
    return env


def render_html(template: str, **context: Any) -> str:
    return html_env().get_template(template).render(**context)


def render_text(template: str, **context: Any) -> str:
    return text_env().get_template(template).render(**context)
