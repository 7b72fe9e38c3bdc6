"""URL normalisation, so the same article under two spellings is stored once."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that only track the reader; they never change the page.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid"})
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_url(url: str) -> str:
    """Lower-case scheme and host, drop default ports, fragments, tracking parameters
    and a trailing slash: `HTTPS://Ex.org:443/a/?utm_source=x#top` → `https://ex.org/a`."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if parts.port and parts.port != DEFAULT_PORTS.get(scheme):
        host = f"{host}:{parts.port}"
    query = urlencode(
        [
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in TRACKING_PARAMS
        ]
    )
    path = parts.path if parts.path in ("", "/") else parts.path.rstrip("/")
    return urlunsplit((scheme, host, path or "/", query, ""))


# The user:password@ of a URL anywhere in a text.
_USERINFO = re.compile(r"(?<=://)[^/@\s]*@")


def without_credentials(text: str) -> str:
    """`text` with the user:password@ of every URL in it removed, for logs and records."""
    return _USERINFO.sub("", text)
