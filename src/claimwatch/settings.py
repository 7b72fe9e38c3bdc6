"""Settings: one object, read from CLAIMWATCH_* environment variables when built."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from claimwatch.fetching.config import FetchConfig
from claimwatch.workers.config import WorkerConfig


class Settings(BaseSettings):
    """Where claimwatch reads and writes, and how it fetches and matches."""

    # A variable set empty counts as unset, as XDG_CACHE_HOME does: CLAIMWATCH_DB= (a
    # compose file's `${CLAIMWATCH_DB:-}`) read as a path is ".", the current folder.
    model_config = SettingsConfigDict(
        env_prefix="CLAIMWATCH_", env_nested_delimiter="__", extra="ignore", env_ignore_empty=True
    )

    sources: Path = Path("seeds/sources.yaml")
    claims: Path = Path("seeds/claims.yaml")
    db: Path = Path("warehouse/lake")
    # Digest channels and subscriptions (claimwatch digest, flows/digest.py).
    digest: Path = Path("seeds/digest.yaml")
    # Seconds to keep retrying while the warehouse's catalog is busy (another process creating
    # it, a PostgreSQL restart); writes retry conflicts with other writers longer (connection.py).
    lock_wait: float = Field(default=30.0, ge=0, le=3600)
    allow_private_hosts: bool = False
    # Default score (0-100) a match needs; a claim's own `threshold` overrides it.
    match_threshold: float = Field(default=88.0, ge=0, le=100)
    # The sentence encoder of matching by meaning: "auto" (MiniLM to rank, the multilingual
    # USE to suggest), "minilm", "use", or "none" for no meaning at all.
    encoder: Literal["auto", "minilm", "use", "none"] = "auto"
    # Built models and embedded catalogs, keyed by their content (safe to delete).
    cache_dir: Path = Field(default_factory=lambda: _user_cache() / "claimwatch")
    # Articles per fetch/extract/match task: coarse enough to keep Prefect's overhead small.
    batch_size: int = Field(default=100, ge=1, le=1000)
    # How many days back a new article's story is looked for: copies fetched later than
    # this after their original start a story of their own (stories are news echoes, and
    # the window keeps what each batch reads from growing with the archive).
    story_window_days: float = Field(default=30.0, gt=0)
    fetch: FetchConfig = FetchConfig()
    # Worker processes for extraction and matching (CLAIMWATCH_WORKERS__PROCESSES, ...).
    workers: WorkerConfig = WorkerConfig()
    # Schedules of `claimwatch serve` (flows/serve.py); prefect.yaml repeats the defaults.
    monitor_interval_minutes: float = Field(default=30.0, gt=0)
    # A cron expression (in `timezone`) instead of the interval, e.g. "*/15 6-22 * * *".
    monitor_cron: str | None = None
    digest_cron: str = "0 7 * * *"
    # Warehouse maintenance (flows/maintain.py, `claimwatch warehouse maintain`): when it
    # runs, and how many days of snapshots it keeps for time travel (--as-of).
    maintain_cron: str = "30 3 * * *"
    # The sentence index of search by meaning (flows/index.py, `claimwatch index`).
    index_cron: str = "15,45 * * * *"
    snapshot_retention_days: float = Field(default=30.0, ge=0)
    # IANA time zone of cron schedules such as the digest's, e.g. Europe/Brussels.
    timezone: str = "UTC"
    # Where submitted tasks run: threads in the flow's process, or a Dask cluster
    # (at dask_address, or a temporary local one per run when it is unset).
    task_runner: Literal["threads", "dask"] = "threads"
    dask_address: str | None = None
    # The workbench (`claimwatch ui`): sign-in with the users of this file, or trust a
    # reverse proxy that names the signed-in user in this header; the key that signs its
    # session cookies (a new one each start when unset: sessions end on restart).
    ui_users: Path | None = None
    ui_user_header: str | None = None
    ui_secret: str | None = None
    # Behind a proxy that serves the workbench over HTTPS: its cookies only travel there.
    ui_secure_cookies: bool = False

    def detector_options(self) -> dict[str, Any]:
        """What a pass's detector is built with (matching/detector.py, DetectorSpec)."""
        from claimwatch.matching.encoder import encoder_name

        return {
            "threshold": self.match_threshold,
            "encoder": encoder_name(self.encoder, "detection"),
            "cache_dir": self.cache_dir,
        }

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r} (use an IANA name)") from None
        return value


def _user_cache() -> Path:
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) if xdg else Path.home() / ".cache"


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; explicit non-None overrides win."""
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
    if settings.allow_private_hosts and not settings.fetch.allow_private:
        # CLAIMWATCH_ALLOW_PRIVATE_HOSTS=1 opens every source for the whole run.
        fetch = settings.fetch.model_copy(update={"allow_private": True})
        settings = settings.model_copy(update={"fetch": fetch})
    return settings
