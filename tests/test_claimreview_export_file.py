"""A ClaimReview export file on disk is read as every file a user gives us (userfile.read_text):
a byte-order mark accepted, a byte that is not UTF-8, UTF-16 text or a NUL character refused
with the line and column, as the source's failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from claimwatch.sources.claimreview_markup import fact_check_id
from tests.test_claimreview import poll, source

REVIEWS = [
    {"@type": "ClaimReview", "url": f"https://checks.example/{n}", "claimReviewed": claim}
    for n, claim in enumerate(["Bridges are made of cheese", "The moon is a hologram"])
]
LINES = "\n".join(json.dumps(r) for r in REVIEWS) + "\n"
SECOND = LINES.splitlines()[1]
# Columns (from 1) on line 2 of the byte made bad and of the NUL put in.
BAD_BYTE = SECOND.index("hologram") + len("hologr") + 1
NUL = SECOND.index("moon") + len("mo") + 1


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    export = tmp_path / "export.jsonl"
    export.write_bytes(b"\xef\xbb\xbf" + LINES.encode())
    read = poll(source(path=str(export), listing="export"))
    assert read.failure is None
    assert [c.claim_id for c in read.fact_checks] == [
        fact_check_id("https://checks.example/0"),
        fact_check_id("https://checks.example/1"),
    ]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (
            LINES.encode().replace(b"hologram", b"hologr\xe0m"),
            f"line 2, column {BAD_BYTE}: byte 0xe0 is not UTF-8: save the file as UTF-8 text "
            "(a spreadsheet's 'CSV UTF-8')",
        ),
        (
            LINES.replace("moon", "mo\0on").encode(),
            f"line 2, column {NUL}: a NUL character: not a text file",
        ),
        (LINES.encode("utf-16"), "line 1, column 1: the file is UTF-16 text: save it as UTF-8"),
    ],
    ids=["not-utf8", "nul", "utf16"],
)
def test_an_export_that_is_not_text_is_named_by_line_and_column(
    tmp_path: Path, data: bytes, reason: str
) -> None:
    export = tmp_path / "export.jsonl"
    export.write_bytes(data)
    read = poll(source(path=str(export), listing="export"))
    assert read.fact_checks == [] and read.failure is not None
    assert read.failure.url == str(export)
    assert read.failure.reason.startswith(f"cannot read the export: {reason}")
