-- title: Pass history
-- description: One row per monitoring pass with what it read, added and failed on.
-- param limit: 20
SELECT
    run_id, started_at, finished_at, status, sources_total, sources_failed,
    items_seen, pages_skipped, pages_fetched, articles_new, matches_new, failures
FROM runs
ORDER BY started_at DESC
LIMIT $limit;
