"""The workbench's pages: one module each, with its routes, queries and template."""

from claimwatch.web.pages import (
    article,
    claim,
    claims,
    login,
    meaning,
    new_claim,
    review,
    search,
    sources,
)

# Each module's `routes` are served by the application (app.py).
PAGES = [claims, claim, sources, login, review, article, search, new_claim, meaning]
