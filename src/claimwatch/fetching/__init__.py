"""Fetching and extraction: pages over HTTP (or from disk), politely, and their article text."""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "articles": ["Batch", "fetch_and_match", "fetch_articles"],
        "client": ["FetchConfig", "Fetcher", "Page", "shared_fetcher"],
        "extract": ["ExtractError", "extract_article"],
    },
)
