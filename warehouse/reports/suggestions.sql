-- title: Suggestions to review
-- description: Sentences close in meaning to a claim that a person has not confirmed or rejected yet, best first, with the id `claimwatch review confirm|reject` takes.
-- param limit: 50
-- param include_sample: true
-- param min_score: 0.0
SELECT
    id,
    claim_id,
    score,
    outlet,
    title,
    matched_text,
    suggested_at,
    article_url
FROM claim_suggestions
WHERE (is_sample = false OR $include_sample)
  AND score >= $min_score
ORDER BY score DESC, suggested_at DESC, id
LIMIT $limit;
