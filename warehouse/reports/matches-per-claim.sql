-- title: Matches per claim
-- description: For every claim in the catalog: how many articles, outlets and stories repeat it (copies of one story count once), and when it was first and last seen.
-- param include_sample: true
SELECT
    c.id AS claim_id,
    c.text AS claim_text,
    count(m.article_url) AS articles,
    count(DISTINCT m.outlet) AS outlets,
    count(DISTINCT s.story_id) AS stories,
    min(coalesce(m.published_at, m.fetched_at)) AS first_seen,
    max(coalesce(m.published_at, m.fetched_at)) AS last_seen,
    round(max(m.score), 1) AS best_score
FROM claims AS c
LEFT JOIN claim_matches AS m
    ON m.claim_id = c.id AND (m.is_sample = false OR $include_sample)
LEFT JOIN article_stories AS s ON s.article_url = m.article_url
WHERE c.in_catalog
GROUP BY c.id, c.text
ORDER BY articles DESC, claim_id;
