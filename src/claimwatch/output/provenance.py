"""Who stands behind a match, as people read it: the machine's score or a person's decision.

A match a reviewer confirmed often carries a low machine score (the suggestion's
cosine); shown alone, that score reads as weak evidence, so every page and digest
says who confirmed it and when instead.
"""

from __future__ import annotations

from datetime import datetime


def confirmed_label(reviewer: str | None, at: datetime | None) -> str | None:
    """As pages say it: confirmed by ana on 2026-12-05; None where no person confirmed."""
    if reviewer is None:
        return None
    return f"confirmed by {reviewer}" + (f" on {at:%Y-%m-%d}" if at is not None else "")


def confirmed_summary(count: int, reviewers: str | None, latest: datetime | None) -> str | None:
    """For a claim's matches: "confirmed by ana on 2026-12-05" for one, "3 confirmed by ana,
    ben (latest 2026-12-05)" for more; None when no person confirmed any."""
    if not count or reviewers is None:
        return None
    if count == 1:
        return confirmed_label(reviewers, latest)
    return f"{count} confirmed by {reviewers}" + (
        f" (latest {latest:%Y-%m-%d})" if latest is not None else ""
    )
