"""Pending suggestions as blocks a person can decide from, one per suggestion.

A table row cannot hold what a decision needs: the claim's wording beside the
sentence, the sentences around it, where and when it appeared, the whole link and
why it was suggested. Each block gives those, labelled, wrapped to the terminal's
width (wide characters counted as two cells); a link is never wrapped or cut, so it
can be opened or copied whole. Text from the web goes through `plain`: no control
characters reach the terminal.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from rich.console import Console
from rich.text import Text

from claimwatch.output.render import plain, when

LABEL = 10  # the width of the labels column
MIN_WIDTH, DEFAULT_WIDTH = 40, 100
# What each stored signal means, as a reader needs it.
SIGNALS = {
    "meaning": "closeness in meaning {v:.1f}/100",
    "lift": "{v:+.1f} over the other claims for this sentence",
    "coverage": "{v:.0f}% of the wording's rarer words",
    "verifier": "verifier's confidence {v:.0f}%",  # stored as its probability x 100
}


def review_blocks(rows: Sequence[dict[str, Any]], width: int | None = None) -> str:
    """The suggestions (rows of `review_queue.pending_details`) as labelled blocks."""
    width = max(width or shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_WIDTH)
    console = Console(width=width, color_system=None, highlight=False, emoji=False)
    out: list[str] = []
    for number, row in enumerate(rows, start=1):
        heading = f"── {number} of {len(rows)} · {row['id']} · score {row['score']:.1f} "
        out.append(heading + "─" * max(width - cell_len(heading), 3))
        claim_text = plain(row.get("claim_text") or "")
        out += _field(console, width, "Claim", f"{row['claim_id']}: “{claim_text}”")
        out += _field(console, width, "Sentence", _in_context(row))
        out += _field(console, width, "Outlet", plain(row.get("outlet")))
        out += _field(console, width, "Date", _dates(row))
        if row.get("title"):
            out += _field(console, width, "Title", plain(row["title"]))
        out.append(f"{'Link':<{LABEL}}{plain(row.get('link') or row['article_url'])}")
        out += _field(console, width, "Why", _why(row))
        out.append("")
    out += [
        "Decide: claimwatch review confirm ID... | reject ID... | move ID CLAIM",
        "        (many at once: --claim ID, --above SCORE, --below SCORE)",
    ]
    return "\n".join(out) + "\n"


def _field(console: Console, width: int, label: str, value: str) -> list[str]:
    """`label` then `value` wrapped to the width left, later lines indented under it."""
    lines = Text(value).wrap(console, max(width - LABEL, 20), overflow="fold")
    wrapped = [line.plain.rstrip() for line in lines] or [""]
    return [f"{label:<{LABEL}}{wrapped[0]}", *(" " * LABEL + line for line in wrapped[1:])]


def _in_context(row: dict[str, Any]) -> str:
    """The suggested sentence between >> and <<, with a sentence either side."""
    before, after = plain(row.get("context_before")), plain(row.get("context_after"))
    sentence = f">>{plain(row['matched_text'])}<<"
    return " ".join(part for part in (before, sentence, after) if part)


def _dates(row: dict[str, Any]) -> str:
    published = row.get("published_at")
    day = f"published {when(published)} UTC" if published else "no publication date"
    return f"{day} · suggested {when(row.get('suggested_at'))} UTC"


def why_said(row: dict[str, Any]) -> list[str]:
    """Why the suggestion was made, in words: the reason stored with it (the verifier's
    evidence), or for a suggestion stored before reasons were (reason NULL) its signals
    said one by one, then any signal without words as name and value."""
    reason = plain(row.get("reason") or "")
    if reason:
        return [reason]
    signals: dict[str, float] = row.get("signals") or {}
    known = [SIGNALS[k].format(v=signals[k]) for k in SIGNALS if k in signals]
    return known + [f"{k} {v:g}" for k, v in signals.items() if k not in SIGNALS]


def _why(row: dict[str, Any]) -> str:
    """`why_said`, and the claim's wording it came nearest to."""
    reasons = ", ".join(why_said(row)) or "no signals stored"
    variant = plain(row.get("variant") or "")
    same = variant in (row["claim_id"], plain(row.get("claim_text") or ""))
    nearest = f"; nearest wording: “{variant}”" if variant and not same else ""
    field = " (in the headline)" if row.get("field") == "title" else ""
    return f"{reasons}{nearest}{field}"
