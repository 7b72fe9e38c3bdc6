-- title: Source health
-- description: Every configured source: its status in the latest pass, failing passes in a row, what it yielded and its last failure.
-- param include_sample: true
SELECT
    source, status, failed_passes_in_a_row, articles, articles_7d, matches,
    last_article_at, last_ok_pass, last_failure_at, last_failure
FROM source_health
WHERE NOT is_sample OR $include_sample
ORDER BY
    CASE status WHEN 'failing' THEN 0 WHEN 'degraded' THEN 1 WHEN 'unknown' THEN 2
                WHEN 'ok' THEN 3 ELSE 4 END,
    failed_passes_in_a_row DESC,
    source;
