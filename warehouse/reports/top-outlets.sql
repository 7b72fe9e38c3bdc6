-- title: Top outlets per claim
-- description: The outlets that repeat each claim most, with their share of its articles and when they carried it.
-- param claim_id: null  # one claim only
-- param include_sample: true
-- param limit: 5  # outlets per claim
SELECT claim_id, outlet_rank, outlet, articles, stories, share_pct, first_seen, last_seen, best_score
FROM claim_outlets
WHERE ($claim_id IS NULL OR claim_id = $claim_id)
  AND (NOT is_sample OR $include_sample)
  AND outlet_rank <= $limit
ORDER BY claim_id, outlet_rank, outlet;
