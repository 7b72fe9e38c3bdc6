"""The digest file: where digests go (channels) and what each channel receives (subscriptions).

    digest:
      send_empty: false            # a "nothing new" note when nothing is new
    channels:
      - name: inbox
        kind: smtp                 # stdout, file, directory, smtp or webhook
        host: smtp.example.org
        from: claimwatch@example.org
        to: [analysts@example.org]
    subscriptions:
      - name: state-media-lines
        tags: [state-media]        # and/or claims: [claim-id, ...]; neither = every claim
        min_score: 90
        channels: [inbox]

Secrets never sit in this file: an SMTP password and a webhook URL (which is a
credential for Slack, Teams and Discord) are read from environment variables
the file names, or from a Prefect Secret block.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from claimwatch.exceptions import DigestConfigError
from claimwatch.matching.catalog import FACT_CHECK_TAG, Catalog, Id, Slug, Tags
from claimwatch.yamlfile import MAX_LISTED_ERRORS, own_errors, plain_message, read_yaml

EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]
Address = Annotated[str, StringConstraints(pattern=r"^[^@\s<>]+@[^@\s<>]+$", max_length=254)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class Format(StrEnum):
    text = "text"
    markdown = "markdown"
    html = "html"


class _Channel(_Strict):
    name: Slug
    # Tries after the first within one run, for errors that may pass (timeouts, 5xx, 4xx SMTP).
    retries: int = Field(default=2, ge=0, le=10)
    retry_delay: float = Field(default=2.0, ge=0, le=300)
    # Overrides digest.send_empty for this channel.
    send_empty: bool | None = None


class StdoutChannel(_Channel):
    kind: Literal["stdout"]
    format: Format = Format.text


class FileChannel(_Channel):
    """Appends each digest to one file."""

    kind: Literal["file"]
    path: Path
    format: Format = Format.markdown

    @model_validator(mode="after")
    def _no_html(self) -> Self:
        if self.format is Format.html:
            raise ValueError("HTML digests cannot be appended to one file; use kind: directory")
        return self


class DirectoryChannel(_Channel):
    """Writes each digest to a new file in a folder."""

    kind: Literal["directory"]
    path: Path
    format: Format = Format.html


class SmtpChannel(_Channel):
    kind: Literal["smtp"]
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    # starttls (upgrade after connecting, usually port 587), ssl (TLS from the start, 465), none.
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password_env: EnvName = "CLAIMWATCH_SMTP_PASSWORD"
    password_block: str | None = None  # a Prefect Secret block holding the password
    sender: Address = Field(alias="from")
    to: Annotated[tuple[Address, ...], Field(min_length=1)]
    subject: str = "{title}: {matches} new matches of {claims} claims"
    ca_file: Path | None = None  # trust this CA (a company's own) besides the system's
    timeout: float = Field(default=30.0, gt=0, le=600)
    format: Literal[Format.html, Format.text] = Format.html  # html sends text and HTML parts


class WebhookChannel(_Channel):
    kind: Literal["webhook"]
    url: AnyHttpUrl | None = None
    url_env: EnvName | None = None  # preferred: chat webhook URLs are credentials
    # The payload's shape: generic JSON, or what Slack, Microsoft Teams or Discord expect.
    style: Literal["generic", "slack", "teams", "discord"] = "generic"
    timeout: float = Field(default=20.0, gt=0, le=600)

    @model_validator(mode="after")
    def _one_url(self) -> Self:
        if (self.url is None) == (self.url_env is None):
            raise ValueError("give exactly one of url and url_env")
        return self


Channel = Annotated[
    StdoutChannel | FileChannel | DirectoryChannel | SmtpChannel | WebhookChannel,
    Field(discriminator="kind"),
]


class Subscription(_Strict):
    """A filter over new matches, routed to channels."""

    name: Slug
    claims: tuple[Id, ...] = ()
    tags: Tags = ()
    min_score: float = Field(default=0.0, ge=0, le=100)
    # Rows of a source marked `sample: true` (the offline demo) are left out unless asked for.
    include_sample: bool = False
    channels: Annotated[tuple[Slug, ...], Field(min_length=1)]

    def accepts(self, claim_id: str, tags: tuple[str, ...], score: float, is_sample: bool) -> bool:
        if score < self.min_score or (is_sample and not self.include_sample):
            return False
        if not self.claims and not self.tags:
            return True
        return claim_id in self.claims or any(tag in self.tags for tag in tags)


class OverviewOptions(_Strict):
    """The HTML overview the digest flow writes (and publishes as an artifact) on each run."""

    path: Path
    days: int = Field(default=30, ge=0)
    include_sample: bool = False


class DigestOptions(_Strict):
    title: Annotated[str, StringConstraints(min_length=1, max_length=200)] = "claimwatch digest"
    send_empty: bool = False
    max_stories_per_claim: int = Field(default=10, ge=1, le=1000)
    overview: OverviewOptions | None = None


class DigestConfig(_Strict):
    digest: DigestOptions = DigestOptions()
    channels: Annotated[tuple[Channel, ...], Field(min_length=1)]
    subscriptions: Annotated[tuple[Subscription, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _names_unique_and_known(self) -> Self:
        for kind, names in (
            ("channel", [c.name for c in self.channels]),
            ("subscription", [s.name for s in self.subscriptions]),
        ):
            seen: set[str] = set()
            for name in names:
                if name in seen:
                    raise ValueError(f"{kind} name {name!r} is used twice; names must be unique")
                seen.add(name)
        known = {c.name for c in self.channels}
        for sub in self.subscriptions:
            for name in sub.channels:
                if name not in known:
                    raise ValueError(
                        f"subscription {sub.name!r}: channel {name!r} is not listed under channels"
                    )
        return self

    def channel(self, name: str) -> Any:
        for channel in self.channels:
            if channel.name == name:
                return channel
        raise KeyError(name)

    def subscriptions_of(self, channel: str) -> tuple[Subscription, ...]:
        return tuple(s for s in self.subscriptions if channel in s.channels)

    def check_against(self, catalog: Catalog, path: Path, claims_path: Path) -> None:
        """Every claim id and tag a subscription names must exist: a typo would send nothing."""
        ids = {c.id for c in catalog.claims}
        # Fact-checks' claims may come with a later pass: their tag is always known.
        tags = {t for c in catalog.claims for t in c.tags} | {FACT_CHECK_TAG}
        for sub in self.subscriptions:
            for claim in sub.claims:
                if claim not in ids:
                    raise DigestConfigError(
                        f"{path}: subscription {sub.name!r}: "
                        f"claim {claim!r} is not in {claims_path}"
                    )
            for tag in sub.tags:
                if tag not in tags:
                    raise DigestConfigError(
                        f"{path}: subscription {sub.name!r}: no claim in {claims_path} "
                        f"has the tag {tag!r}"
                    )


def load_digest_config(path: Path | str) -> DigestConfig:
    """Read and validate a digest file; raise DigestConfigError with a one-line reason."""
    path = Path(path)
    data = read_yaml(path, DigestConfigError)
    if not isinstance(data, dict):
        raise DigestConfigError(f"{path}: expected a mapping with 'channels' and 'subscriptions'")
    try:
        return DigestConfig.model_validate(data)
    except ValidationError as exc:
        raise DigestConfigError(_describe(path, exc, data)) from None


_KINDS = {"stdout", "file", "directory", "smtp", "webhook"}


def _describe(path: Path, exc: ValidationError, data: dict[str, Any]) -> str:
    """Every error, one a line, each naming the channel or subscription and the field."""
    errors = own_errors(exc)
    lines = [_describe_one(path, error, data) for error in errors[:MAX_LISTED_ERRORS]]
    if len(errors) > MAX_LISTED_ERRORS:
        lines.append(f"{path}: {len(errors) - MAX_LISTED_ERRORS} more errors not listed")
    return "\n".join(lines)


def _describe_one(path: Path, error: ErrorDetails, data: dict[str, Any]) -> str:
    loc = list(error["loc"])
    where = str(path)
    if len(loc) >= 2 and loc[0] in ("channels", "subscriptions") and isinstance(loc[1], int):
        items = data.get(str(loc[0]))
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        label = item.get("name") if isinstance(item, dict) else None
        kind = str(loc[0])[:-1]
        where += f": {kind} {label!r}" if label else f": {kind} #{loc[1] + 1}"
        loc = loc[2:]
        if loc and loc[0] in _KINDS:  # the tag pydantic adds for the channel's kind
            loc = loc[1:]
    field = ".".join(str(part) for part in loc)
    message = plain_message(error)
    return f"{where}: field {field!r}: {message}" if field else f"{where}: {message}"
