"""The warehouse SQL, installed as the package data of `claimwatch.warehouse`.

`migrations/` (ordered, applied once each), `views.sql` (applied after them) and
`reports/` (named reports) are read from the installed package through
`claimwatch.store.sql`, so an installed claimwatch finds them wherever it runs.
The database a user works on (`warehouse/claimwatch.duckdb` by default) is a path
relative to the working directory, never this folder's content.
"""
