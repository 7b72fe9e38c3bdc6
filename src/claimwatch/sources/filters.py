"""Per-source filters applied to extracted articles: topic terms and languages."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from functools import lru_cache

from claimwatch.records import Article, Failure
from claimwatch.sources.config import BaseSource


@lru_cache(maxsize=256)
def _group_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    # Whole words only, so "NATO" does not match "senator".
    alternatives = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)", re.IGNORECASE)


def off_topic_reason(article: Article, source: BaseSource) -> str | None:
    """Why `source`'s filters leave `article` out, or None to keep it.

    An article in no detected language is kept: the language filter only drops
    what it knows to be another language.
    """
    if source.languages and article.language:
        language = article.language.split("-")[0].lower()
        if language not in source.languages:
            return f"language {language} is not one of {', '.join(source.languages)}"
    haystack = f"{article.title or ''}\n{article.text}"
    for group in source.topic_terms:
        if not _group_pattern(group).search(haystack):
            return f"off topic: none of {', '.join(group)}"
    return None


def apply_filters(
    articles: Iterable[Article], sources: Mapping[str, BaseSource]
) -> tuple[list[Article], list[Failure]]:
    """Articles their source's filters keep, and the others as 'filter' failures."""
    kept: list[Article] = []
    dropped: list[Failure] = []
    for article in articles:
        source = sources.get(article.source)
        reason = off_topic_reason(article, source) if source else None
        if reason:
            dropped.append(Failure(article.source, article.url, "filter", reason))
        else:
            kept.append(article)
    return kept, dropped
