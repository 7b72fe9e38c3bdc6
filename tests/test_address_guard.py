"""The monitor refuses loopback, private and other non-public addresses unless told not to."""

import pytest

from claimwatch.exceptions import FetchError
from claimwatch.fetching.address_guard import is_public
from claimwatch.fetching.client import FetchConfig, Fetcher
from claimwatch.settings import load_settings
from tests.httpserver import Reply, ScriptedServer


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("10.0.0.8", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.251", False),
        ("::1", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("::ffff:10.0.0.1", False),
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_public_addresses(address: str, public: bool) -> None:
    assert is_public(address) is public


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_loopback_is_refused_before_any_request(server: ScriptedServer, host: str) -> None:
    url = server.add("/secret", Reply(body=b"internal")).replace("127.0.0.1", host)
    with Fetcher(FetchConfig(retries=2)) as fetcher, pytest.raises(FetchError) as info:
        fetcher.get(url)
    assert "refused" in info.value.reason and "non-public address" in info.value.reason
    assert "allow_private: true" in info.value.reason
    assert server.requests == []  # nothing reached the server, and no retry was made


def test_opt_in_allows_private_hosts(server: ScriptedServer) -> None:
    url = server.add("/ok", Reply(body=b"fine"))
    with Fetcher(FetchConfig(allow_private=True, host_delay=0)) as fetcher:
        assert fetcher.get(url).content == b"fine"


def test_environment_opt_in_covers_the_whole_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLAIMWATCH_ALLOW_PRIVATE_HOSTS", "0")
    assert load_settings().fetch.allow_private is False
    monkeypatch.setenv("CLAIMWATCH_ALLOW_PRIVATE_HOSTS", "1")
    assert load_settings().fetch.allow_private is True
