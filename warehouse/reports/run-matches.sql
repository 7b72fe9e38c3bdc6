-- title: Matches of one pass
-- description: The matches a monitoring pass added (by default the latest pass).
-- param run_id: null
SELECT
    claim_id,
    outlet,
    score,
    matched_text
FROM claim_matches
WHERE run_id = coalesce($run_id, (SELECT run_id FROM runs ORDER BY started_at DESC LIMIT 1))
ORDER BY claim_id, score DESC, outlet;
