-- title: Source health
-- description: Every configured source: its status (failing, silent, off-topic, degraded, ok, paused), failing passes in a row, what it yielded, what reading it cost in the last 7 days and its last failure.
-- param include_sample: true
SELECT
    source, kind, status, failed_passes_in_a_row, articles, articles_7d, matches,
    last_polled_at, last_new_item_at, usual_gap_hours, requests_7d, not_modified_7d,
    bytes_7d, off_topic_7d, last_article_at, last_ok_pass, last_failure_at, last_failure
FROM source_health
WHERE NOT is_sample OR $include_sample
ORDER BY
    CASE status WHEN 'failing' THEN 0 WHEN 'silent' THEN 1 WHEN 'off-topic' THEN 2
                WHEN 'degraded' THEN 3 WHEN 'unknown' THEN 4 WHEN 'ok' THEN 5 ELSE 6 END,
    failed_passes_in_a_row DESC,
    source;
