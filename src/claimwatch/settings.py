"""Settings: one object, read from CLAIMWATCH_* environment variables when built."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from claimwatch.fetch import FetchConfig

# The checkout this package was installed from in editable mode (src/claimwatch/ → top level).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


class Settings(BaseSettings):
    """Where claimwatch reads and writes, and how it fetches and matches."""

    model_config = SettingsConfigDict(
        env_prefix="CLAIMWATCH_", env_nested_delimiter="__", extra="ignore"
    )

    sources: Path = Path("seeds/sources.yaml")
    claims: Path = Path("seeds/claims.yaml")
    db: Path = Path("warehouse/claimwatch.duckdb")
    # Folder holding migrations/ and reports/.
    warehouse_dir: Path = PROJECT_ROOT / "warehouse"
    flows_dir: Path = PROJECT_ROOT / "flows"
    allow_private_hosts: bool = False
    # Default score (0-100) a match needs; a claim's own `threshold` overrides it.
    match_threshold: float = Field(default=88.0, ge=0, le=100)
    # Articles per fetch/extract/match task: coarse enough to keep Prefect's overhead small.
    batch_size: int = Field(default=100, ge=1, le=1000)
    fetch: FetchConfig = FetchConfig()


def load_settings(**overrides: object) -> Settings:
    """Build settings from the environment; explicit non-None overrides win."""
    return Settings(**{k: v for k, v in overrides.items() if v is not None})  # type: ignore[arg-type]
