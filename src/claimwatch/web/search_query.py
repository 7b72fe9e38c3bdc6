"""A search of the archive as SQL: words and "quoted phrases", each one a bound pattern.

The SQL text is made of this module's own pieces alone (one condition per term, its
parameter named by position); what the user typed reaches DuckDB only as parameter
values: a case-insensitive RE2 pattern with every character but letters and digits
escaped. A regular expression, not ILIKE: at 10^5 stored articles two ILIKE terms took
1.3 to 3.5 s on the bench machine, the same search by regexp_matches 0.5 to 0.9 s
(ILIKE lowercases every text first).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from claimwatch.matching.terms import CJK

MAX_TERMS = 8
PER_PAGE = 20
# RE2 takes any ASCII character but letters and digits escaped as itself, and refuses
# other escapes: so exactly those are escaped.
_RE2_SPECIAL = re.compile(r"([\x00-\x2f\x3a-\x40\x5b-\x60\x7b-\x7f])")
_TERM = re.compile(r'"([^"]*)"|(\S+)')
# Punctuation around a word is not part of it ("NATO," or "(Asia)").
_EDGES = " \t.,;:!?()[]{}'\"“”‘’«»"


def parse_terms(q: str) -> list[str]:
    """The phrases and words of a query, lowercase, each once, at most MAX_TERMS."""
    found: list[str] = []
    for phrase, word in _TERM.findall(q):
        term = " ".join(phrase.split()) if phrase else word.strip(_EDGES)
        if term and term.lower() not in found:
            found.append(term.lower())
    return found[:MAX_TERMS]


def re2_escape(text: str) -> str:
    """`text` as a literal of an RE2 pattern."""
    return _RE2_SPECIAL.sub(r"\\\1", text)


# Where a word starts: after a character that is no letter or digit, in any script. Not
# RE2's \b, which knows ASCII letters only (`\bнато` finds nothing in "НАТО").
WORD_START = r"(?:^|[^\p{L}\p{N}])"


def word_start(term: str) -> str:
    """The RE2 prefix a term needs to be found at the start of a word: none for Chinese,
    Japanese and Korean, written without spaces between words."""
    return "" if CJK.match(term) else WORD_START


def term_pattern(term: str, *, anywhere: bool = False) -> str:
    """A case-insensitive RE2 pattern finding `term` at the start of a word ("war" finds
    "wars", not "software"), any run of white space between a phrase's words; with
    `anywhere`, inside a word too."""
    words = [re2_escape(word) for word in term.split()]
    return "(?i)" + ("" if anywhere else word_start(term)) + r"\s+".join(words)


@dataclass(frozen=True, slots=True)
class Search:
    """What a search asks: its terms and filters, and which page of results."""

    terms: list[str]
    outlet: str = ""
    source: str = ""
    language: str = ""
    claim: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1

    def where(self) -> tuple[str, dict[str, Any]]:
        """The conditions on `articles AS a`, and their parameters."""
        conditions = []
        params: dict[str, Any] = {}
        for i, term in enumerate(self.terms):
            # The term anywhere first, then at a word's start: RE2 finds a pattern that
            # begins with a literal fast (at 10^5 articles a search took 0.5 s, against
            # 0.9 s for the word-start pattern alone), and few texts are left to check.
            params[f"t{i}"] = term_pattern(term, anywhere=True)
            params[f"w{i}"] = term_pattern(term)
            conditions.append(
                f"((regexp_matches(a.text, $t{i}) AND regexp_matches(a.text, $w{i}))"
                f" OR (regexp_matches(coalesce(a.title, ''), $t{i})"
                f" AND regexp_matches(coalesce(a.title, ''), $w{i})))"
            )
        if self.outlet:
            conditions.append("a.outlet = $outlet")
            params["outlet"] = self.outlet
        if self.source:
            conditions.append("a.source = $source")
            params["source"] = self.source
        if self.language:
            conditions.append("coalesce(a.language, '') = $language")
            params["language"] = self.language
        if self.claim:
            conditions.append("a.url IN (SELECT article_url FROM matches WHERE claim_id = $claim)")
            params["claim"] = self.claim
        if self.since:
            conditions.append("coalesce(a.published_at, a.fetched_at) >= $since")
            params["since"] = self.since
        if self.until:
            conditions.append("coalesce(a.published_at, a.fetched_at) < $until")
            params["until"] = self.until + timedelta(days=1)
        return " AND ".join(conditions) or "true", params

    def sql(self) -> tuple[str, dict[str, Any]]:
        """One page of results newest first, each row with the count of them all (by a
        subquery: see web/queue.py on window counts)."""
        where, params = self.where()
        params |= {"limit": PER_PAGE, "offset": (self.page - 1) * PER_PAGE}
        return (
            f"""
            SELECT a.url, a.title, a.outlet, a.source, a.language,
                coalesce(a.published_at, a.fetched_at) AS seen_at, a.text,
                (SELECT count(*) FROM articles AS a WHERE {where}) AS total
            FROM articles AS a
            WHERE {where}
            ORDER BY seen_at DESC, a.url
            LIMIT $limit OFFSET $offset
            """,
            params,
        )
