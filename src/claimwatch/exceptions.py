"""Exceptions raised by claimwatch.

ClaimwatchError
 ├── ConfigError          a user's file (claims, sources) cannot be used
 │    ├── CatalogError     the claims file
 │    ├── SourcesError     the sources file
 │    ├── DigestConfigError the digest channels and subscriptions file
 │    └── EncoderError     the sentence encoder (CLAIMWATCH_ENCODER) cannot be loaded
 ├── WarehouseError       the DuckDB warehouse cannot be opened, migrated or written
 ├── ReportError          a named report is unknown or got a bad parameter
 ├── DigestError          a digest cannot be built (another run holds it, a bad --since)
 └── FetchError           one URL could not be fetched (recorded, never fatal to a pass)

Each message is one line that names the file, line or URL at fault.
"""

from claimwatch.urls import without_credentials


class ClaimwatchError(Exception):
    """Base class of every error claimwatch raises on purpose."""


class ConfigError(ClaimwatchError):
    """A configuration file cannot be used."""


class CatalogError(ConfigError):
    """The claims file is invalid."""


class SourcesError(ConfigError):
    """The sources file is invalid."""


class DigestConfigError(ConfigError):
    """The digest file (channels and subscriptions) is invalid."""


class EncoderError(ConfigError):
    """The sentence encoder cannot be loaded."""


class WarehouseError(ClaimwatchError):
    """The warehouse cannot be opened, migrated or written."""


class ReportError(ClaimwatchError):
    """A named report is unknown or got a bad parameter."""


class DigestError(ClaimwatchError):
    """A digest cannot be built or recorded."""


class FetchError(ClaimwatchError):
    """A URL could not be fetched."""

    def __init__(self, url: str, reason: str) -> None:
        # A private feed's user:password@ stays out of logs and the warehouse.
        url, reason = without_credentials(url), without_credentials(reason)
        super().__init__(f"{url}: {reason}")
        self.url = url
        self.reason = reason
