"""The workbench's pages: one module each, with its routes, queries and template."""

from claimwatch.web.pages import claim, claims, login, review, sources

# Each module's `routes` are served by the application (app.py).
PAGES = [claims, claim, sources, login, review]
