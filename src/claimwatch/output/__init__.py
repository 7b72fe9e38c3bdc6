"""Output for people and programs: tables, templates, HTML reports, charts and summaries."""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "html_report": ["overview_page", "report_page", "table_page"],
        "summary": ["summary_markdown"],
        "tables": ["FORMATS", "render"],
    },
)
