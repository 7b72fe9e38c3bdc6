"""The workbench's users: one `name:argon2-hash` line each in a file the admin keeps
(`claimwatch ui add-user`), like an htpasswd file. Passwords are hashed with Argon2id."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from claimwatch.exceptions import ClaimwatchError

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_HASHER = PasswordHasher()
# Checked when a name is unknown, so that a wrong name takes as long as a wrong password.
_DUMMY = _HASHER.hash("not a password of anyone")


class UsersFileError(ClaimwatchError):
    """The users file cannot be read or written, or a user name is not allowed."""


def read_users(path: Path) -> dict[str, str]:
    """name -> password hash."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise UsersFileError(
            f"{path}: no users file; add a user with `claimwatch ui add-user`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsersFileError(f"{path}: cannot read: {exc}") from None
    users = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, hashed = line.strip().partition(":")
        if not sep or not NAME.fullmatch(name) or not hashed.startswith("$argon2"):
            raise UsersFileError(
                f"{path}, line {number}: expected NAME:ARGON2-HASH, "
                "as `claimwatch ui add-user` writes"
            )
        users[name] = hashed
    return users


def check_password(path: Path, name: str, password: str) -> bool:
    """Whether `password` is `name`'s."""
    hashed = read_users(path).get(name)
    try:
        return _HASHER.verify(hashed or _DUMMY, password) and hashed is not None
    except (VerificationError, InvalidHashError):
        return False


def add_user(path: Path, name: str, password: str) -> bool:
    """Add `name` or change their password; True when the user is new. Written to a
    temporary file then renamed, so the file is never half-written."""
    if not NAME.fullmatch(name):
        raise UsersFileError(
            f"user name {name!r}: use letters, digits, '.', '_', '@' or '-' (at most 64)"
        )
    if len(password) < 8:
        raise UsersFileError("the password needs at least 8 characters")
    users = read_users(path) if path.exists() else {}
    new = name not in users
    users[name] = _HASHER.hash(password)
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{n}:{h}\n" for n, h in sorted(users.items()))
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(lines)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return new
