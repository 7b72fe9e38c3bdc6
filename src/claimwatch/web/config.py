"""What the workbench serves and who may use it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Auth = Literal["none", "password", "header"]


@dataclass(frozen=True, kw_only=True)
class WorkbenchConfig:
    """The warehouse and catalog the workbench works on, and how users are known.

    auth "none": anyone who reaches the server (it binds to 127.0.0.1) decides as
    `reviewer`. "password": users sign in with a name and password from `users_file`
    (`claimwatch ui add-user`). "header": a reverse proxy that has signed users in names
    them in `user_header`; requests without it are refused.
    """

    db: Path
    claims: Path
    auth: Auth = "none"
    reviewer: str = "unknown"
    users_file: Path | None = None
    user_header: str = "X-Forwarded-User"
    # Signs the session cookie (sign-in and the CSRF token). A new one each start unless
    # given: sessions then end when the server restarts.
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    # Seconds to keep retrying a catalog another process holds busy.
    wait: float = 30.0
    # Cookies only over HTTPS (behind a TLS-terminating proxy).
    secure_cookies: bool = False
