"""Refusing private addresses, so feeds cannot turn the monitor against its own network.

Article links come from third parties. Unless a source opts in, claimwatch
connects only to public addresses: not loopback, private, link-local (cloud
metadata at 169.254.169.254), multicast, reserved or unspecified ones, in IPv4,
IPv6 or IPv4-mapped IPv6 form. The check runs on the address actually connected
to, after DNS resolution, for every connection including redirects, so DNS
rebinding and redirects to internal hosts are refused too.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx


class PrivateAddressError(Exception):
    """A host resolved only to addresses that are not public."""

    def __init__(self, host: str, address: str) -> None:
        super().__init__(f"{host} resolves to non-public address {address}")
        self.host = host
        self.address = address


def is_public(address: str) -> bool:
    """True for a globally routable unicast address."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class _PublicOnlyBackend(httpcore.SyncBackend):
    """Resolves the host itself and connects only to a public address it found."""

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise httpcore.ConnectError(str(exc)) from exc
        refused = ""
        failure: httpcore.ConnectError | None = None
        for *_, sockaddr in found:
            address = str(sockaddr[0])
            if not is_public(address):
                refused = address
                continue
            try:
                # Connecting to the checked address (not the name) leaves no
                # second lookup for a rebinding DNS server to answer differently.
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:
                failure = exc
        if failure is not None:
            raise failure
        raise PrivateAddressError(host, refused)


class PublicOnlyTransport(httpx.HTTPTransport):
    """httpx's transport with a connection pool that refuses non-public addresses."""

    def __init__(self, limits: httpx.Limits) -> None:
        super().__init__(limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_PublicOnlyBackend(),
        )
