"""Former home of the digest run, kept for old imports: the names now live in one-job modules.

model.py (the dataclasses), build.py (what is new), render.py, ledger.py, run.py (one run).
"""

from claimwatch.delivery.build import parse_since, prepare, wants_delivery
from claimwatch.delivery.ledger import exclusive_run, record
from claimwatch.delivery.model import ClaimGroup, Delivery, Digest, DigestItem, Story
from claimwatch.delivery.render import render_digest, subject_line
from claimwatch.delivery.run import DigestRun, run_digest

__all__ = [
    "ClaimGroup",
    "Delivery",
    "Digest",
    "DigestItem",
    "DigestRun",
    "Story",
    "exclusive_run",
    "parse_since",
    "prepare",
    "record",
    "render_digest",
    "run_digest",
    "subject_line",
    "wants_delivery",
]
