"""Sources and discovery: the source list, one reader per kind, and the links each announces.

One module per `kind` of the sources file, named as the kind is spelled there
(`feed`, `google_news`, `gdelt`, `sitemap`, `site`, `directory`, `claimreview`, whose
markup `claimreview_markup` reads); `reader` is what they
share (conditional, counted requests), `discover` polls any source, and `filters` keeps
the extracted articles a source wants.
"""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "config": ["Source", "SourceList", "load_sources"],
        "discover": ["Poll", "poll_source", "unseen_items"],
        "filters": ["apply_filters"],
        "reader": ["SourceReader"],
    },
)
