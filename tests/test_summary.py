"""The Markdown summary each monitoring pass publishes as a Prefect artifact."""

from collections import Counter
from datetime import datetime

from claimwatch.output.summary import MAX_LINES, summary_markdown
from claimwatch.records import Failure, RunStats

STATS = RunStats(
    run_id="r1",
    started_at=datetime(2026, 11, 25, 7, 0, 0),
    finished_at=datetime(2026, 11, 25, 7, 0, 9),
    status="completed with failures",
    sources_total=3,
    sources_failed=1,
    items_seen=40,
    pages_skipped=30,
    pages_fetched=10,
    articles_new=9,
    matches_new=3,
    failures=2,
)


def test_counts_claims_and_failures() -> None:
    text = summary_markdown(
        STATS,
        [
            Failure("dead", "http://127.0.0.1:9/feed.xml", "discover", "connection refused"),
            Failure("ok", "http://x/a", "extract", "no text | empty page\nsecond line"),
        ],
        Counter({"claim-b": 1, "claim-a": 2}),
    )
    assert text.startswith("# Monitoring pass: completed with failures\n")
    assert "| 3 | 1 | 40 | 30 | 9 | 3 | 2 |" in text
    claims = text.split("## Claims found")[1].split("## Failures")[0]
    assert claims.index("| claim-a | 2 |") < claims.index("| claim-b | 1 |")
    assert "| discover | dead | http://127.0.0.1:9/feed.xml | connection refused |" in text
    # A cell never breaks the table.
    assert "| extract | ok | http://x/a | no text \\| empty page second line |" in text
    assert text.rstrip().endswith("Run `r1`, started 2026-11-25 07:00:00 UTC.")


def test_long_lists_are_cut() -> None:
    failures = [Failure(f"s{i}", f"http://x/{i}", "fetch", "timeout") for i in range(MAX_LINES + 5)]
    text = summary_markdown(STATS, failures)
    assert text.count("| fetch |") == MAX_LINES
    assert "… and 5 more." in text
    assert "## Claims found" not in text
