-- title: Latest evidence per claim
-- description: The newest matches of each claim with the matched text, its context and the link, and for a match a person confirmed, who and when.
-- param days: 90  # the last N days by publication time; 0 for all time
-- param claim_id: null  # one claim only
-- param min_score: 0.0
-- param include_sample: true
-- param top: 5  # matches per claim
SELECT
    claim_id,
    coalesce(published_at, fetched_at) AS seen_at,
    outlet,
    title,
    score,
    matched_text,
    snippet,
    final_url AS link,
    confirmed_by,
    confirmed_at
FROM claim_matches
WHERE ($days = 0 OR coalesce(published_at, fetched_at)
                    >= (now() AT TIME ZONE 'UTC') - to_days($days))
  AND ($claim_id IS NULL OR claim_id = $claim_id)
  AND score >= $min_score
  AND (NOT is_sample OR $include_sample)
QUALIFY row_number() OVER (
    PARTITION BY claim_id ORDER BY coalesce(published_at, fetched_at) DESC, score DESC, article_url
) <= $top
ORDER BY claim_id, seen_at DESC, score DESC;
