"""A new claim's echoes already stored: the sentences of stored articles that quote it or
nearly do, found by the project's fuzzy matcher over a catalog of that claim alone.

Only articles holding most of the claim's terms (word beginnings, as the matcher's own
term index reads them) are read from the warehouse, newest first and at most
MAX_CANDIDATES of them: the matcher never scans the whole archive.
"""

from __future__ import annotations

import math
import re
from typing import Any

from claimwatch.matching.catalog import Catalog, Claim
from claimwatch.matching.matcher import Matcher
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import CJK, terms
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.data import read

MAX_TERMS = 8
# Share of the claim's terms an article must hold to be read: a near-quote keeps most.
TERM_SHARE = 0.6
MAX_CANDIDATES = 2000
MAX_ECHOES = 100


def claim_terms(claim: Claim) -> list[str]:
    """The claim's rarest-looking terms (longest first): what a stored echo must mostly hold."""
    found: set[str] = set()
    for wording in claim.wordings:
        found |= terms(normalize_text(wording))
    return sorted(found, key=lambda t: (-len(t), t))[:MAX_TERMS]


def _prefilter(words: list[str]) -> tuple[str, dict[str, Any]]:
    """SQL for the newest articles holding enough of `words`, and its parameters."""
    params: dict[str, Any] = {"need": max(1, math.ceil(TERM_SHARE * len(words)))}
    held = []
    for i, word in enumerate(words):
        escaped = re.sub(r"([\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f])", r"\\\1", word)
        # Word beginnings, as the term index reads them; CJK terms stand anywhere.
        params[f"w{i}"] = "(?i)" + (escaped if CJK.search(word) else r"\b" + escaped)
        held.append(
            f"CAST(regexp_matches(text, $w{i}) OR regexp_matches(coalesce(title, ''), $w{i}) "
            "AS INTEGER)"
        )
    sql = f"""
        SELECT url, title, text, outlet, coalesce(published_at, fetched_at) AS seen_at
        FROM articles
        WHERE {" + ".join(held) or "0"} >= $need
        ORDER BY seen_at DESC, url
        LIMIT $limit
    """
    return sql, params | {"limit": MAX_CANDIDATES}


def find_echoes(config: WorkbenchConfig, claim: Claim) -> list[dict[str, Any]]:
    """Stored sentences that say `claim` (exactly or nearly), best first."""
    words = claim_terms(claim)
    if not words:
        return []
    sql, params = _prefilter(words)
    matcher = Matcher(Catalog(claims=(claim,)))
    echoes = []
    for row in read(config, sql, **params).rows:
        for hit in matcher.find(row["text"], title=row["title"]):
            echoes.append(
                {
                    "article_url": row["url"],
                    "title": row["title"],
                    "outlet": row["outlet"],
                    "seen_at": row["seen_at"],
                    "score": round(hit.score, 1),
                    "matched_text": hit.matched_text,
                }
            )
    echoes.sort(key=lambda e: (-e["score"], e["article_url"]))
    return echoes[:MAX_ECHOES]
