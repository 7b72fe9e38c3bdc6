-- The warehouse becomes a DuckLake. One row that every write transaction updates first
-- (see store/connection.py): two overlapping writers conflict on it, and the second runs
-- again on a snapshot that holds the first's rows, so its insert-where-not-exists checks
-- see them. DuckLake has no unique constraints to do this for us.

CREATE TABLE write_fence (serial BIGINT NOT NULL);
INSERT INTO write_fence VALUES (0);
