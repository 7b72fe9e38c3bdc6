"""A new claim's echoes already stored: the sentences of stored articles that quote it or
nearly do, found by the project's fuzzy matcher over a catalog of that claim alone.

Only articles holding most of the claim's terms (word beginnings, as the matcher's own
term index reads them) are read from the warehouse, newest first and at most
MAX_CANDIDATES of them: the matcher never scans the whole archive.
"""

from __future__ import annotations

import math
from typing import Any

from claimwatch.matching.catalog import Catalog, Claim
from claimwatch.matching.matcher import Matcher
from claimwatch.matching.normalize import normalize_text
from claimwatch.matching.terms import wording_terms
from claimwatch.web.config import WorkbenchConfig
from claimwatch.web.data import read
from claimwatch.web.search_query import re2_escape, word_start

MAX_TERMS = 8
# Share of the claim's terms an article must hold to be read: a near-quote keeps most.
TERM_SHARE = 0.6
MAX_CANDIDATES = 500
MAX_ECHOES = 100


def claim_terms(claim: Claim) -> list[str]:
    """The claim's rarest-looking terms (longest first): what a stored echo must mostly
    hold. Translations are left out: their terms would count against the others'."""
    found: set[str] = set()
    untranslated = [(v.text, None) for v in claim.variants if not v.language]
    for wording, language in [(claim.text, claim.language), *untranslated]:
        found |= wording_terms(normalize_text(wording), language)
    return sorted(found, key=lambda t: (-len(t), t))[:MAX_TERMS]


def _prefilter(words: list[str]) -> tuple[str, dict[str, Any]]:
    """SQL for the newest articles holding enough of `words`, and its parameters: one
    regular expression finds every term in a text, and the distinct ones are counted."""
    # Word beginnings, as the term index reads them, in any script; CJK terms stand
    # anywhere. A match may hold the character before its word: `bare` drops it.
    alternatives = [word_start(word) + re2_escape(word) for word in words]
    sql = """
        SELECT url, title, text, outlet, coalesce(published_at, fetched_at) AS seen_at
        FROM articles
        WHERE len(list_distinct(list_transform(
            list_concat(
                regexp_extract_all(text, $terms),
                regexp_extract_all(coalesce(title, ''), $terms)
            ),
            found -> lower(regexp_replace(found, $bare, ''))))) >= $need
        ORDER BY seen_at DESC, url
        LIMIT $limit
    """
    return sql, {
        "terms": "(?i)(?:" + "|".join(alternatives) + ")",
        "bare": "^[^\\p{L}\\p{N}]",
        "need": max(1, math.ceil(TERM_SHARE * len(words))),
        "limit": MAX_CANDIDATES,
    }


def find_echoes(config: WorkbenchConfig, claim: Claim) -> list[dict[str, Any]]:
    """Stored sentences that say `claim` (exactly or nearly), best first."""
    words = claim_terms(claim)
    if not words:
        return []
    sql, params = _prefilter(words)
    # The claim alone: its seed document, if it names one, plays no part in matching.
    matcher = Matcher(Catalog(claims=(claim.model_copy(update={"document": None}),)))
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
