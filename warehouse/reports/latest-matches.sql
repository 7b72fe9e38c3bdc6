-- title: Latest matches
-- description: The newest claim matches with their evidence, best score first within each article; for a claim from a fact-check, its verdict and link.
-- param limit: 20
-- param include_sample: true
-- param min_score: 0.0
SELECT
    claim_id,
    outlet,
    title,
    matched_text,
    score,
    published_at,
    article_url,
    verdict,
    fact_check_url
FROM claim_matches
WHERE (is_sample = false OR $include_sample)
  AND score >= $min_score
ORDER BY matched_at DESC, coalesce(published_at, fetched_at) DESC, score DESC
LIMIT $limit;
