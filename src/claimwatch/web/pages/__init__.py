"""The workbench's pages: one module each, with its routes, queries and template."""

from claimwatch.web.pages import claims, login, review

# Each module's `routes` are served by the application (app.py).
PAGES = [claims, login, review]
