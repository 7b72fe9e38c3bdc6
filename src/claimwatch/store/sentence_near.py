"""Which stored articles the sentence index says may restate some wordings, as SQL.

A focused re-match (`claimwatch rematch --claim ID`) reads an indexed article when it
holds enough of the claim's terms (matching/focus.py) or when one of its sentences lies
near a wording of the claim in meaning (archive/near.py finds them); an article the
index does not cover yet is read as before the index: when it holds one of the claim's
terms, or is not in English.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb

from claimwatch.records import SentenceSpan
from claimwatch.store.writers import url_table

# The name under which `Near.register` hands a connection the near articles' URLs.
NEAR_TABLE = "near_urls"


@dataclass(frozen=True)
class Near:
    """The articles whose indexed sentences lie near the focus wordings, under the index's
    model: each article's near sentences."""

    model: str
    sentences: Mapping[str, tuple[SentenceSpan, ...]] = field(default_factory=dict)

    @property
    def urls(self) -> tuple[str, ...]:
        return tuple(sorted(self.sentences))

    def unindexed(self) -> tuple[str, list[object]]:
        """An SQL query of the URLs of the articles the index does not cover (`url`)."""
        return (
            "SELECT url FROM articles"
            " WHERE url NOT IN (SELECT article_url FROM indexed_articles WHERE model = ?)",
            [self.model],
        )

    def near(self) -> tuple[str, list[object]]:
        """An SQL condition on an article's `url`: one of its sentences is near. The URLs
        are a table the connection must have (`register`)."""
        return f"url IN (SELECT url FROM {NEAR_TABLE})", []

    def register(self, con: duckdb.DuckDBPyConnection) -> None:
        """Hand the connection the URLs, as a table (see url_table)."""
        con.register(NEAR_TABLE, url_table(self.urls))
