"""Delivering a digest: standard output, a file, a folder, SMTP, or a chat or any webhook.

`deliver` never raises for a channel's failure: it returns a Delivery whose
status is 'delivered' only once the channel accepted the digest (the SMTP
server took the message, the webhook answered 2xx, the file was written).
Errors that may pass (timeouts, refused connections, HTTP 429 and 5xx, SMTP 4xx)
are retried with backoff within the run; the rest fail at once. Passwords and
webhook URLs (credentials for chat services) appear in no message or log.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import sys
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, TextIO
from urllib.parse import urlsplit

from claimwatch import __version__
from claimwatch.dates import utcnow
from claimwatch.delivery.config import (
    DirectoryChannel,
    FileChannel,
    Format,
    SmtpChannel,
    StdoutChannel,
    WebhookChannel,
)
from claimwatch.delivery.model import Delivery, Digest
from claimwatch.delivery.render import render_digest, subject_line
from claimwatch.output.render import safe_link
from claimwatch.retry import RetryPolicy, parse_retry_after

_log = logging.getLogger("claimwatch.delivery.channels")

_EXTENSIONS = {Format.text: "txt", Format.markdown: "md", Format.html: "html"}
# Longest message each chat service takes; longer digests are cut with a note.
_CHAT_LIMITS = {"slack": 39_000, "discord": 2_000, "teams": 20_000}


# A Retry-After longer than this is not waited for: the delivery fails, and the next run resends.
MAX_RETRY_AFTER = 300.0


class _Transient(Exception):
    """A failure worth another try within this run (after `retry_after` seconds, if given)."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.retry_after = retry_after


class _Permanent(Exception):
    """A failure that another try will not fix."""


def destination(channel: Any) -> str:
    """Where a channel delivers, for people and the ledger: never a credential."""
    if isinstance(channel, StdoutChannel):
        return "stdout"
    if isinstance(channel, FileChannel | DirectoryChannel):
        return str(channel.path)
    if isinstance(channel, SmtpChannel):
        return f"smtp://{channel.host}:{channel.port} to {', '.join(channel.to)}"
    if isinstance(channel, WebhookChannel):
        url = str(channel.url) if channel.url else os.environ.get(channel.url_env or "", "")
        origin = _redact(url) if url else f"${channel.url_env}"
        return f"{channel.style} webhook {origin}"
    return channel.kind  # pragma: no cover - every kind is handled above


def _redact(url: str) -> str:
    """scheme://host[:port]/…: chat webhook paths carry their secret token."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"


def deliver(digest: Digest, *, out: TextIO | None = None) -> Delivery:
    """Send `digest` over its channel, with retries for passing failures."""
    channel = digest.channel
    send: Callable[[], str] = {
        "stdout": lambda: _to_stdout(digest, out or sys.stdout),
        "file": lambda: _to_file(digest),
        "directory": lambda: _to_directory(digest),
        "smtp": lambda: _to_smtp(digest),
        "webhook": lambda: _to_webhook(digest),
    }[channel.kind]
    started = utcnow()
    where = destination(channel)
    policy = retry_policy(channel)
    attempts = 0
    while True:
        attempts += 1
        try:
            detail = send()
        except _Permanent as exc:
            return _failed(digest, where, str(exc), attempts, started)
        except _Transient as exc:
            if not policy.allows(attempts - 1):
                return _failed(digest, where, str(exc), attempts, started)
            delay = policy.delay(attempts - 1, exc.retry_after)
            if delay is None:
                reason = f"{exc}; Retry-After {exc.retry_after:.0f}s is too long"
                return _failed(digest, where, reason, attempts, started)
            _log.warning("digest for %s: %s; trying again in %g s", channel.name, exc, delay)
            time.sleep(delay)
            continue
        _log.info("digest for %s delivered to %s: %s", channel.name, where, detail)
        return Delivery(digest, "delivered", where, detail, attempts, started)


def retry_policy(channel: Any) -> RetryPolicy:
    """The channel's `retries`, `retry_delay` doubled each time, and the server's Retry-After."""
    return RetryPolicy(
        retries=channel.retries,
        backoff=channel.retry_delay,
        jitter=False,
        max_retry_after=MAX_RETRY_AFTER,
    )


def _failed(digest: Digest, where: str, reason: str, attempts: int, started: Any) -> Delivery:
    _log.warning("digest for %s not delivered to %s: %s", digest.channel.name, where, reason)
    return Delivery(digest, "failed", where, reason, attempts, started)


# --- local channels -------------------------------------------------------------------------


def _to_stdout(digest: Digest, out: TextIO) -> str:
    channel = digest.channel
    assert isinstance(channel, StdoutChannel)
    text = render_digest(digest, channel.format)
    try:
        out.write(text if text.endswith("\n") else text + "\n")
        out.flush()
    except OSError as exc:
        raise _Permanent(f"stdout: {exc.strerror or exc}") from None
    return f"{len(text)} characters written"


def _to_file(digest: Digest) -> str:
    channel = digest.channel
    assert isinstance(channel, FileChannel)
    text = render_digest(digest, channel.format)
    try:
        channel.path.parent.mkdir(parents=True, exist_ok=True)
        with channel.path.open("a", encoding="utf-8") as handle:
            handle.write(text if text.endswith("\n") else text + "\n")
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        raise _Permanent(f"{channel.path}: {exc.strerror or exc}") from None
    return f"appended to {channel.path}"


def _to_directory(digest: Digest) -> str:
    channel = digest.channel
    assert isinstance(channel, DirectoryChannel)
    name = (
        f"digest-{digest.created_at:%Y%m%dT%H%M%S}-{digest.digest_id}.{_EXTENSIONS[channel.format]}"
    )
    path = channel.path / name
    try:
        channel.path.mkdir(parents=True, exist_ok=True)
        partial = path.with_name("." + name + ".partial")
        partial.write_text(render_digest(digest, channel.format), encoding="utf-8")
        partial.replace(path)  # a reader never sees half a digest
    except OSError as exc:
        raise _Permanent(f"{path}: {exc.strerror or exc}") from None
    return f"written to {path}"


# --- email --------------------------------------------------------------------------------


def smtp_password(channel: SmtpChannel) -> str | None:
    """The password from the environment or a Prefect Secret block; None without a username."""
    if not channel.username:
        return None
    if channel.password_block:
        from prefect.blocks.system import Secret

        try:
            secret = Secret.load(channel.password_block)
        except ValueError as exc:
            raise _Permanent(
                f"Prefect Secret block {channel.password_block!r}: {str(exc).splitlines()[0]}"
            ) from None
        return str(secret.get())  # type: ignore[union-attr]
    password = os.environ.get(channel.password_env)
    if password is None:
        raise _Permanent(
            f"smtp://{channel.host}:{channel.port}: a username is set but "
            f"{channel.password_env} is not in the environment"
        )
    return password


def email_message(digest: Digest) -> EmailMessage:
    channel = digest.channel
    assert isinstance(channel, SmtpChannel)
    message = EmailMessage()
    message["Subject"] = (
        channel.subject.format(title=digest.title, matches=digest.matches, claims=digest.claims)
        if not digest.empty
        else subject_line(digest)
    )
    message["From"] = channel.sender
    message["To"] = ", ".join(channel.to)
    message["Date"] = formatdate(usegmt=True)
    domain = channel.sender.rpartition("@")[2]
    # The same digest keeps its Message-ID, so a mail system can drop a resent copy.
    message["Message-ID"] = f"<claimwatch-{digest.digest_id}@{domain}>"
    message["X-Claimwatch-Digest"] = digest.digest_id
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(render_digest(digest, Format.text))
    if channel.format is Format.html:
        message.add_alternative(render_digest(digest, Format.html), subtype="html")
    return message


def _to_smtp(digest: Digest) -> str:
    channel = digest.channel
    assert isinstance(channel, SmtpChannel)
    where = f"smtp://{channel.host}:{channel.port}"
    password = smtp_password(channel)
    message = email_message(digest)
    context = ssl.create_default_context(cafile=str(channel.ca_file) if channel.ca_file else None)
    try:
        server: smtplib.SMTP
        if channel.security == "ssl":
            server = smtplib.SMTP_SSL(
                channel.host, channel.port, timeout=channel.timeout, context=context
            )
        else:
            server = smtplib.SMTP(channel.host, channel.port, timeout=channel.timeout)
        with server:
            server.ehlo()
            if channel.security == "starttls":
                server.starttls(context=context)
                server.ehlo()
            if channel.username:
                server.login(channel.username, password or "")
            refused = server.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise _Permanent(f"{where}: login refused ({exc.smtp_code})") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise _Permanent(f"{where}: every recipient refused: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise _Permanent(f"{where}: {exc}") from None
    except smtplib.SMTPResponseException as exc:
        reason = f"{where}: {exc.smtp_code} {_decode(exc.smtp_error)}"
        raise (_Transient if 400 <= exc.smtp_code < 500 else _Permanent)(reason) from None
    except ssl.SSLError as exc:
        raise _Permanent(f"{where}: TLS failed: {exc.reason or exc}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise _Transient(f"{where}: {_oneline(exc) or type(exc).__name__}") from None
    accepted = len(channel.to) - len(refused)
    note = f"; refused: {', '.join(refused)}" if refused else ""
    return f"{where} accepted the message for {accepted} recipients{note}"


def _decode(value: bytes | str) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    return " ".join(text.split())


def _oneline(exc: BaseException) -> str:
    return " ".join(str(exc).split())


# --- webhooks -------------------------------------------------------------------------------


def webhook_payload(digest: Digest) -> dict[str, Any]:
    """The JSON body for the channel's style."""
    channel = digest.channel
    assert isinstance(channel, WebhookChannel)
    if channel.style == "slack":
        text = _cut(render_digest(digest, Format.markdown, style="slack"), _CHAT_LIMITS["slack"])
        return {"text": text, "unfurl_links": False, "unfurl_media": False}
    if channel.style == "discord":
        text = _cut(render_digest(digest, Format.markdown), _CHAT_LIMITS["discord"])
        # No @everyone, @here or role pings from text found on the web; no link previews.
        return {"content": text, "allowed_mentions": {"parse": []}, "flags": 4}
    if channel.style == "teams":
        text = _cut(render_digest(digest, Format.markdown), _CHAT_LIMITS["teams"])
        card = {
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": [{"type": "TextBlock", "text": text, "wrap": True}],
        }
        return {
            "type": "message",
            "attachments": [
                {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
            ],
        }
    return {
        "digest_id": digest.digest_id,
        "channel": channel.name,
        "subject": subject_line(digest),
        "created_at": digest.created_at.isoformat(),
        "since": digest.since.isoformat() if digest.since else None,
        "matches": digest.matches,
        "claims": digest.claims,
        "text": render_digest(digest, Format.text),
        "markdown": render_digest(digest, Format.markdown),
        "items": [
            {
                "claim_id": i.claim_id,
                "claim_text": i.claim_text,
                "story_id": i.story_id,
                "outlet": i.outlet,
                "title": i.title,
                "link": safe_link(i.link),
                "article_url": i.article_url,
                "published_or_fetched_at": i.seen_at.isoformat() if i.seen_at else None,
                "matched_at": i.matched_at.isoformat(),
                "score": i.score,
                "matched_text": i.matched_text,
                "snippet": i.snippet,
                "verdict": i.verdict,
                "fact_checker": i.fact_checker,
                "fact_check_url": safe_link(i.fact_check_url),
            }
            for i in digest.items
        ],
    }


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    note = "\n… (cut: the full digest is too long for this service)"
    return text[: limit - len(note)].rstrip() + note


def _to_webhook(digest: Digest) -> str:
    channel = digest.channel
    assert isinstance(channel, WebhookChannel)
    url = str(channel.url) if channel.url else os.environ.get(channel.url_env or "")
    if not url:
        raise _Permanent(f"webhook: {channel.url_env} is not in the environment")
    where = _redact(url)
    body = json.dumps(webhook_payload(digest), ensure_ascii=False).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"claimwatch/{__version__} (digest)",
        "X-Claimwatch-Digest": digest.digest_id,
    }
    import httpx  # only a webhook needs it: a dry run or an email digest loads less

    timeout = httpx.Timeout(channel.timeout, connect=min(channel.timeout, 10.0))
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False) as client:
            response = client.post(url, content=body, headers=headers)
    except httpx.TimeoutException:
        raise _Transient(f"{where}: timed out after {channel.timeout:g} s") from None
    except httpx.TransportError as exc:
        raise _Transient(
            f"{where}: connection failed: {_oneline(exc) or type(exc).__name__}"
        ) from None
    if 200 <= response.status_code < 300:
        return f"{where} answered HTTP {response.status_code}"
    excerpt = " ".join(response.text[:200].split())
    # Some servers echo the request path, which for a webhook is its secret.
    secret_parts = {urlsplit(url).path, urlsplit(url).query} - {"", "/"}
    for part in secret_parts:
        excerpt = excerpt.replace(part, "[redacted]")
    reason = f"{where}: HTTP {response.status_code} {excerpt}".rstrip()
    if response.status_code == 429 or response.status_code >= 500:
        raise _Transient(reason, parse_retry_after(response.headers.get("Retry-After")))
    raise _Permanent(reason)
