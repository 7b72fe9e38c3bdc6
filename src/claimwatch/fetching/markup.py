"""Parsing untrusted HTML and XML with lxml: nothing fetched, no DTD read, no entity expanded.

The source readers (Google News, site feeds, sitemaps, saved pages) parse what
any server sends; these settings are kept in one place so none of them drifts.
"""

from __future__ import annotations

from typing import Any

import lxml.etree
import lxml.html


def html_document(content: bytes) -> lxml.html.HtmlElement | None:
    """The parsed page, or None when lxml finds no document in it."""
    try:
        return lxml.html.document_fromstring(content, parser=lxml.html.HTMLParser(no_network=True))
    except (lxml.etree.ParserError, ValueError):
        return None


def xml_parser(**options: Any) -> lxml.etree.XMLParser:
    """A hardened XML parser; `options` add lxml's own (recover, remove_comments, …)."""
    return lxml.etree.XMLParser(
        resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, **options
    )
