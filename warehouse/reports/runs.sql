-- title: Pass history
-- description: One row per monitoring pass with what it read, added and failed on, and how long it took.
-- param limit: 20
SELECT
    run_id, started_at, duration_s, status, sources_total, sources_failed,
    items_seen, pages_skipped, pages_fetched, articles_new, matches_new, failures,
    discover_failures, fetch_failures, extract_failures
FROM pass_history
ORDER BY started_at DESC
LIMIT $limit;
