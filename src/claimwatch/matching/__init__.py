"""Matching: the claim catalog, and finding its claims in a text."""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "catalog": ["Catalog", "Claim", "load_catalog"],
        "evaluate": ["evaluate", "load_judgements", "ranking", "sweep"],
        "matcher": ["Matcher"],
    },
)
