"""Dates as the warehouse keeps them: naive UTC."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_to_utc(value: object) -> datetime | None:
    """An ISO 8601 / W3C datetime (2026-11-25, 2026-11-25T10:15:00+01:00, …) as naive UTC.

    A value without a zone is taken as UTC; anything unreadable gives None.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        when = datetime.fromisoformat(value.strip())
        return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo else when
    except (ValueError, OverflowError):
        return None


def utcnow() -> datetime:
    """Naive UTC, the convention of every timestamp in the warehouse."""
    return datetime.now(UTC).replace(tzinfo=None)
