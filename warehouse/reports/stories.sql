-- title: Stories per claim
-- description: Each story that carries a claim, with its copies across outlets (similar text, the same page, or for short texts the same headline).
-- param claim_id: null  # one claim only
-- param include_sample: true
-- param limit: 100
SELECT claim_id, story_id, title, copies, outlets, outlet_names, first_seen, last_seen, best_score, first_url
FROM claim_stories
WHERE ($claim_id IS NULL OR claim_id = $claim_id)
  AND (NOT is_sample OR $include_sample)
ORDER BY last_seen DESC, claim_id
LIMIT $limit;
