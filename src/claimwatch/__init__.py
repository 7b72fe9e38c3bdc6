"""claimwatch: find which outlets repeat which claims."""

__version__ = "0.1.0"
