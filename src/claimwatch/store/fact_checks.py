"""Fact-checks in the warehouse: the reviews `claimreview` sources read, kept for good, and
the catalog they extend.

A review read again unchanged changes nothing; one whose page changed is updated in
place (its first sighting kept); one whose page disappeared stays, with its claim.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
from pydantic import ValidationError

from claimwatch.dates import utcnow
from claimwatch.matching.catalog import FACT_CHECK_TAG, Catalog, Claim
from claimwatch.records import FactCheck
from claimwatch.store.connection import connect, has_table, write
from claimwatch.store.lake import exists as warehouse_exists

log = logging.getLogger(__name__)

# What a review says; a row whose fields all equal these is not written again.
CONTENT = tuple(f.name for f in fields(FactCheck))
DATES = ("reviewed_on", "claim_date")


def store_fact_checks(
    db: Path, checks: Sequence[tuple[str, FactCheck]], catalog: Catalog, *, wait: float = 0.0
) -> Catalog:
    """Store the reviews read in this pass ((source, review) pairs), and return `catalog`
    with the claim of every stored review, as it reads now (a claim of the file with the
    same id wins), recorded in `claims`."""
    now = utcnow()

    def store(con: duckdb.DuckDBPyConnection) -> Catalog:
        from claimwatch.store.writers import upsert_claims

        upsert_fact_checks(con, checks, now)
        fresh = fact_check_claims(stored_fact_checks(con))
        # The pass began with the reviews' claims as they were: a review updated since
        # gives its claim anew.
        ids = {c.id for c in fresh}
        kept = [c for c in catalog.claims if c.id not in ids or FACT_CHECK_TAG not in c.tags]
        merged = catalog.model_copy(update={"claims": tuple(kept)}).with_claims(fresh)
        if merged.claims != catalog.claims:
            upsert_claims(con, merged, now)
        return merged

    return write(db, f"{db}: fact-checks not stored", store, wait=wait)


def upsert_fact_checks(
    con: duckdb.DuckDBPyConnection, checks: Sequence[tuple[str, FactCheck]], now: datetime
) -> int:
    """Write the reviews that are new or changed ((source, review) pairs); return how many."""
    stored = _stored(con)
    latest = {c.claim_id: (s, c) for s, c in checks}  # a review read twice in a pass: the last
    rows = [
        _dated(asdict(c))
        | {"source": s, "first_seen_at": stored.get(c.claim_id, (c, now))[1], "updated_at": now}
        for s, c in latest.values()
        if c.claim_id not in stored or stored[c.claim_id][0] != c
    ]
    if rows:
        # Imported here: reading the reviews (digests, reports) needs no row writers.
        from claimwatch.store.writers import replace_rows

        replace_rows(con, "fact_checks", rows, ["claim_id"])
    return len(rows)


def stored_fact_checks(con: duckdb.DuckDBPyConnection) -> list[FactCheck]:
    """Every stored review, oldest first; none in a warehouse from before fact-checks."""
    return [check for check, _ in _stored(con).values()]


def _stored(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[FactCheck, datetime]]:
    """Each stored review and when it was first seen, by claim id, oldest first."""
    if not has_table(con, "fact_checks"):
        return {}
    cursor = con.execute(
        f"SELECT {', '.join(CONTENT)}, first_seen_at FROM fact_checks"
        " ORDER BY first_seen_at, claim_id"
    )
    return {
        row[0]: (FactCheck(**_plain(dict(zip(CONTENT, row[:-1], strict=True)))), row[-1])
        for row in cursor.fetchall()
    }


def fact_check_claims(checks: Sequence[FactCheck]) -> list[Claim]:
    """Each review's claim, as the catalog holds it; a review whose claim the catalog
    cannot hold (an odd language code, say) is logged and left out."""
    claims = []
    for check in checks:
        try:
            claims.append(Claim.model_validate(_claim_fields(check)))
        except ValidationError as exc:
            log.warning("fact-check %s left out of the catalog: %s", check.review_url, exc)
    return claims


def _claim_fields(check: FactCheck) -> dict[str, Any]:
    fields_: dict[str, Any] = {
        "id": check.claim_id,
        "text": check.claim_text,
        "attributed_to": check.claim_author,
        "said_on": check.claim_date,
        "source_url": check.review_url,
        "tags": [FACT_CHECK_TAG],
    }
    if check.language and check.language != "en":
        fields_["language"] = check.language
    return {k: v for k, v in fields_.items() if v is not None}


def _dated(row: dict[str, Any]) -> dict[str, Any]:
    """A record as a row: its ISO dates as dates."""
    return row | {k: date.fromisoformat(row[k]) if row[k] else None for k in DATES}


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the record holds it: dates as ISO strings."""
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in row.items()}


def with_stored_fact_checks(catalog: Catalog, db: Path, *, wait: float = 0.0) -> Catalog:
    """`catalog` with the claim of every review the warehouse holds, as a pass has it. A
    pass records its catalog with these from the start, so that a digest run meanwhile
    still counts their claims as watched."""
    if not warehouse_exists(db):
        return catalog
    with connect(db, read_only=True, wait=wait) as con:
        return catalog.with_claims(fact_check_claims(stored_fact_checks(con)))
