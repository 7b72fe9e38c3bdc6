"""Worker processes for a pass's CPU work: extraction and matching, crashes contained."""

from claimwatch.exports import public_names

__all__, __getattr__, __dir__ = public_names(
    __name__,
    {
        "job": ["PageOutcome"],
        "pool": ["PagePool", "WorkerConfig", "close_shared_pools", "shared_pool", "worker_count"],
    },
)
