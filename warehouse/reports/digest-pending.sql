-- title: Matches a digest would send
-- description: Matches not yet accepted where a channel delivers (its destination) in a delivered digest, with their story and whether an earlier digest already sent that story there; before any subscription filter.
-- param destination: null  # where the channel delivers: its destination_key in the digests report; null: every match counts as new
-- param since: null  # only matches found at or after this time (ISO date or timestamp, UTC)
-- param limit: 1000  # rows at most, the first by claim and time; 0 for all (what a digest reads)
-- What the destination lacks, found in `matches` alone before anything is joined to it:
-- a digest's cost then follows what is new, not the archive.
WITH pending AS MATERIALIZED (
    SELECT article_url, claim_id
    FROM matches AS pm
    WHERE NOT EXISTS (
            SELECT 1 FROM delivered_matches AS d
            WHERE d.destination_key = $destination AND d.article_url = pm.article_url
              AND d.claim_id = pm.claim_id
        )
      AND ($since IS NULL OR pm.matched_at >= CAST($since AS TIMESTAMP))
),
-- The rows shown, chosen on their keys before the evidence is read for them.
chosen AS MATERIALIZED (
    SELECT p.article_url, p.claim_id
    FROM pending AS p
    JOIN articles AS a ON a.url = p.article_url
    ORDER BY p.claim_id, coalesce(a.published_at, a.fetched_at), p.article_url
    LIMIT (CASE WHEN $limit > 0 THEN $limit END)
),
-- The stories of those matches, and which of them an earlier digest sent there for the
-- same claim: looked up for these stories only.
pending_stories AS MATERIALIZED (
    SELECT DISTINCT s.story_id FROM chosen AS p JOIN article_stories AS s USING (article_url)
),
sent AS MATERIALIZED (
    SELECT DISTINCT d.claim_id, ds.story_id
    FROM article_stories AS ds
    JOIN delivered_matches AS d ON d.article_url = ds.article_url
    WHERE ds.story_id IN (SELECT story_id FROM pending_stories)
      AND d.destination_key = $destination
)
SELECT
    m.claim_id,
    coalesce(m.claim_text, m.claim_id) AS claim_text,
    coalesce(c.tags, []) AS tags,
    coalesce(c.in_catalog, false) AS in_catalog,
    m.article_url,
    m.final_url AS link,
    m.title,
    m.outlet,
    coalesce(m.published_at, m.fetched_at) AS seen_at,
    m.matched_at,
    m.score,
    m.matched_text,
    m.snippet,
    m.is_sample,
    m.verdict,
    m.fact_checker,
    m.fact_check_url,
    m.confirmed_by,
    m.confirmed_at,
    s.story_id,
    EXISTS (
        SELECT 1 FROM sent WHERE sent.claim_id = m.claim_id AND sent.story_id = s.story_id
    ) AS story_sent_before
FROM chosen AS p
JOIN claim_matches AS m ON m.article_url = p.article_url AND m.claim_id = p.claim_id
JOIN article_stories AS s ON s.article_url = m.article_url
LEFT JOIN claims AS c ON c.id = m.claim_id
ORDER BY m.claim_id, seen_at, m.article_url;
