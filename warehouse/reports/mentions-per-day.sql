-- title: Mentions per day
-- description: For each claim and day of a period, how many articles repeated it, from how many outlets, in how many stories.
-- param days: 90  # the last N days by publication time; 0 for all time
-- param claim_id: null  # one claim only
-- param min_score: 0.0
-- param include_sample: true
SELECT
    claim_id,
    CAST(coalesce(published_at, fetched_at) AS DATE) AS day,
    count(*) AS mentions,
    count(DISTINCT outlet) AS outlets,
    count(DISTINCT s.story_id) AS stories,
    round(max(score), 1) AS best_score
FROM claim_matches
JOIN article_stories AS s USING (article_url)
WHERE ($days = 0 OR coalesce(published_at, fetched_at)
                    >= (now() AT TIME ZONE 'UTC') - to_days($days))
  AND ($claim_id IS NULL OR claim_id = $claim_id)
  AND score >= $min_score
  AND (NOT is_sample OR $include_sample)
GROUP BY claim_id, day
ORDER BY day, claim_id;
