-- title: Fact-checked claims
-- description: Every fact-check a claimreview source read, with its verdict, and how many articles and outlets repeat its claim; repeated ones first.
-- param verdict: null  # only reviews with this verdict (any case), e.g. False
-- param include_sample: true
SELECT
    f.claim_id,
    f.claim_text,
    f.verdict,
    f.fact_checker,
    f.reviewed_on,
    count(m.article_url) AS articles,
    count(DISTINCT m.outlet) AS outlets,
    max(coalesce(m.published_at, m.fetched_at)) AS last_seen,
    f.review_url AS fact_check_url
FROM fact_checks AS f
LEFT JOIN claim_matches AS m
    ON m.claim_id = f.claim_id AND (m.is_sample = false OR $include_sample)
WHERE $verdict IS NULL OR lower(f.verdict) = lower($verdict)
GROUP BY ALL
ORDER BY articles DESC, f.reviewed_on DESC NULLS LAST, f.claim_id;
