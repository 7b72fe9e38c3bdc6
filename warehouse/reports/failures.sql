-- title: Recent failures
-- description: Sources and pages that could not be read, newest first, with the stage and reason.
-- param limit: 50
SELECT failed_at, source, stage, url, reason
FROM fetch_failures
ORDER BY failed_at DESC, source, url
LIMIT $limit;
