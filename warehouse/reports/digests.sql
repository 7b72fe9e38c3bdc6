-- title: Digest history
-- description: Each digest sent or tried: the channel, where it went, the outcome and the matches it covered.
-- param channel: null  # one channel name only
-- param limit: 50
SELECT
    finished_at, channel, channel_kind, destination, status, matches, claims,
    first_matched_at, last_matched_at, attempts, digest_id, detail, destination_key
FROM digests
WHERE $channel IS NULL OR channel = $channel
ORDER BY finished_at DESC, channel
LIMIT $limit;
