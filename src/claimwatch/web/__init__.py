"""The workbench: claims, review, articles, search and sources in the browser.

A Starlette application over the same warehouse and library functions as the CLI
(`claimwatch ui`). Pages are rendered on the server with Jinja2 (autoescaped: stored
articles are hostile input) and each can be had as CSV or JSON with `?format=`.
"""

from claimwatch.web.app import create_app
from claimwatch.web.config import WorkbenchConfig

__all__ = ["WorkbenchConfig", "create_app"]
