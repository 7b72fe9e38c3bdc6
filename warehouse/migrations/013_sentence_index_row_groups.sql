-- A search fetches its hundred candidates' vectors by key, each from its own row group:
-- in groups of 2,048 rows (1 MiB of vectors) rather than DuckDB's 122,880 (60 MiB) each
-- fetch decompresses little. (Set apart from 011: DuckLake takes no option for a table
-- created in the same transaction.)
CALL set_option('parquet_row_group_size', 2048, table_name => 'sentence_index');
