"""The retry policy shared by fetching and delivery: backoff, jitter, Retry-After and its cap."""

from __future__ import annotations

import pytest

from claimwatch.retry import RetryPolicy, parse_retry_after


def test_backoff_doubles_without_jitter() -> None:
    policy = RetryPolicy(retries=3, backoff=0.5, jitter=False)
    assert [policy.delay(n) for n in range(3)] == [0.5, 1.0, 2.0]


def test_jitter_waits_between_one_and_two_backoffs() -> None:
    policy = RetryPolicy(backoff=1.0)
    delays = [policy.delay(1) for _ in range(200)]
    assert all(d is not None and 2.0 <= d <= 4.0 for d in delays)
    assert len(set(delays)) > 1


def test_retry_after_replaces_the_backoff_up_to_the_cap() -> None:
    policy = RetryPolicy(backoff=0.01, max_retry_after=30)
    assert policy.delay(0, retry_after=1.0) == 1.0
    assert policy.delay(5, retry_after=30.0) == 30.0
    assert policy.delay(0, retry_after=31.0) is None  # too long: give up now
    assert policy.delay(0, retry_after=0.0) == 0.0


def test_allows_counts_retries_after_the_first_attempt() -> None:
    policy = RetryPolicy(retries=2)
    assert [policy.allows(n) for n in range(4)] == [True, True, False, False]
    assert not RetryPolicy(retries=0).allows(0)


def test_settings_are_keyword_only_and_frozen() -> None:
    with pytest.raises(TypeError):
        RetryPolicy(2)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        RetryPolicy().retries = 5  # type: ignore[misc]


def test_parse_retry_after() -> None:
    assert parse_retry_after("120") == 120
    assert parse_retry_after(" 1 ") == 1
    assert parse_retry_after(None) is None
    assert parse_retry_after("") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0
