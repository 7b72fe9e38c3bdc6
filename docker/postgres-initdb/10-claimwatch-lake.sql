-- The claimwatch warehouse's catalog (a DuckLake) gets a database of its own beside
-- Prefect's. The postgres image runs this once, when it creates its data volume; on a
-- volume made before, create it by hand:
--   docker compose exec postgres createdb -U prefect lake
CREATE DATABASE lake;
