-- title: Who said it first
-- description: For each claim, the outlets that carried it in the order they first did, with the first article and the delay after the first outlet.
-- param days: 90  # the last N days by publication time; 0 for all time
-- param claim_id: null  # one claim only
-- param min_score: 0.0
-- param include_sample: true
WITH per_outlet AS (
    SELECT
        claim_id,
        outlet,
        min(coalesce(published_at, fetched_at)) AS first_seen,
        arg_min(title, coalesce(published_at, fetched_at)) AS first_title,
        arg_min(article_url, coalesce(published_at, fetched_at)) AS first_url,
        count(*) AS articles
    FROM claim_matches
    WHERE ($days = 0 OR coalesce(published_at, fetched_at)
                        >= (now() AT TIME ZONE 'UTC') - to_days($days))
      AND ($claim_id IS NULL OR claim_id = $claim_id)
      AND score >= $min_score
      AND (NOT is_sample OR $include_sample)
    GROUP BY claim_id, outlet
)
SELECT
    claim_id,
    row_number() OVER (PARTITION BY claim_id ORDER BY first_seen, outlet) AS outlet_rank,
    outlet,
    first_seen,
    round(date_diff('second', min(first_seen) OVER (PARTITION BY claim_id), first_seen) / 3600.0, 1)
        AS hours_after_first,
    articles,
    first_title,
    first_url
FROM per_outlet
ORDER BY claim_id, outlet_rank;
