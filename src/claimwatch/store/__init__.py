"""The warehouse: a DuckLake queried with DuckDB, written in short transactions by any
number of processes, read by reports while they write.

The SQL itself (migrations, views and named reports) is the package data of
`claimwatch.warehouse` (the top-level `warehouse/` of a checkout), found by `sql_dir`.
"""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "connection": ["connect", "migrate", "write"],
        "lake": ["locate"],
        "history": ["PassMemory", "read_pass_memory"],
        "passes": [
            "begin_pass",
            "finish_pass",
            "page_attempts",
            "source_logs",
            "store_batch",
        ],
        "rematch": ["iter_stored_texts"],
        "reports": ["Report", "get_report", "list_reports", "run_report"],
        "warehouse_sql": ["migrations_dir", "reports_dir", "sql_dir"],
    },
)
