"""What the digest ledger keys a channel's history by: where it delivers, not its name.

Two digest files may each have a channel called `archive` writing to different
folders: each folder gets every match once. Two channels writing to the same place
(one folder named twice, the same SMTP server and recipients in any order) share one
history, so nothing reaches that place twice. A webhook's URL is a credential: its
key holds the origin and a hash of the whole URL, never the URL.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any

from claimwatch.delivery.channels import destination
from claimwatch.delivery.config import (
    DirectoryChannel,
    FileChannel,
    SmtpChannel,
    StdoutChannel,
    WebhookChannel,
)


def destination_key(channel: Any) -> str:
    """The ledger's key for where `channel` delivers (paths resolved from the working
    directory, as the channel writes them)."""
    if isinstance(channel, StdoutChannel):
        return "stdout"
    if isinstance(channel, FileChannel | DirectoryChannel):
        return f"{channel.kind} {channel.path.resolve()}"
    if isinstance(channel, SmtpChannel):
        to = ", ".join(sorted({a.lower() for a in channel.to}))
        return f"smtp://{channel.host.lower()}:{channel.port} to {to}"
    if isinstance(channel, WebhookChannel):
        url = str(channel.url) if channel.url else os.environ.get(channel.url_env or "", "")
        if not url:  # it cannot deliver; the key only has to be stable
            return f"webhook ${channel.url_env}"
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        origin = destination(channel).removeprefix(f"{channel.style} webhook ")
        return f"webhook {origin} sha256:{digest}"
    return f"{channel.kind} {destination(channel)}"  # pragma: no cover - every kind above
