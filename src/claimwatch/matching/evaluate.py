"""Measuring the matcher on a labelled set: precision and recall per tier and claim,
the false hits and misses with their scores, a threshold sweep, and how well
ranking mode (`claimwatch match --top K`) places each positive's claim.

A labelled set is JSON lines, one judgement each:
    {"id": "d0001", "claim_id": "...", "tier": "exact", "label": true, "text": "..."}
Tiers: exact, near, paraphrase, translation (positives) and negative.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from claimwatch.exceptions import ConfigError
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.matcher import Matcher
from claimwatch.matching.retrieval import Retriever
from claimwatch.tablefile import MAX_TABLE_BYTES, read_json_lines
from claimwatch.userfile import read_text

TIERS = ("exact", "near", "paraphrase", "translation", "negative")


class LabelledSetError(ConfigError):
    """A labelled set cannot be read."""


@dataclass(frozen=True, slots=True)
class Judgement:
    id: str
    claim_id: str
    tier: str
    label: bool
    text: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """One judgement: did detection report its claim, the claim's best score, and its
    place in ranking mode (1 = first; None when it scored nothing)."""

    judgement: Judgement
    predicted: bool
    score: float
    threshold: float
    rank: int | None = None


@dataclass
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def add(self, label: bool, predicted: bool) -> None:
        if label and predicted:
            self.tp += 1
        elif label:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn


@dataclass
class Evaluation:
    outcomes: list[Outcome]
    overall: Counts = field(default_factory=Counts)
    by_tier: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))
    by_claim: dict[str, Counts] = field(default_factory=lambda: defaultdict(Counts))

    @property
    def false_hits(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.predicted and not o.judgement.label]

    @property
    def misses(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.predicted and o.judgement.label]


def load_judgements(path: Path, catalog: Catalog) -> list[Judgement]:
    """Read a labelled set; every line must name a claim of the catalog."""
    known = {c.id for c in catalog.claims}
    judgements = []
    text = read_text(path, LabelledSetError, MAX_TABLE_BYTES)
    for number, raw in read_json_lines(path, text, LabelledSetError):
        try:
            item = Judgement(
                id=str(raw["id"]),
                claim_id=raw["claim_id"],
                tier=raw["tier"],
                label=bool(raw["label"]),
                text=raw["text"],
            )
        except (KeyError, TypeError) as exc:
            raise LabelledSetError(f"{path}:{number}: not a judgement ({exc})") from None
        if item.tier not in TIERS:
            raise LabelledSetError(f"{path}:{number}: unknown tier {item.tier!r}")
        if item.claim_id not in known:
            raise LabelledSetError(
                f"{path}:{number}: claim {item.claim_id!r} is not in the catalog"
            )
        judgements.append(item)
    return judgements


def evaluate(
    matcher: Matcher, judgements: Iterable[Judgement], retriever: Retriever | None = None
) -> Evaluation:
    """Run detection, as the pipeline does, on every judgement's text.

    The score reported for a judgement is its claim's best fuzzy score over every
    pair, so misses and the threshold sweep show real numbers. Its place in ranking
    mode comes from `retriever` when given (as in `claimwatch match --top K`), else
    from those fuzzy scores.
    """
    items = list(judgements)
    places = _retrieval_places(retriever, items) if retriever else None
    outcomes = []
    for number, item in enumerate(items):
        detected = {h.claim_id for h in matcher.find(item.text)}
        ranked = [h for h in matcher.rank(item.text, top=len(matcher.claim_ids)) if h.score > 0]
        place = next((n for n, h in enumerate(ranked, 1) if h.claim_id == item.claim_id), None)
        outcomes.append(
            Outcome(
                item,
                predicted=item.claim_id in detected,
                score=ranked[place - 1].score if place else 0.0,
                threshold=matcher.threshold_of(item.claim_id),
                rank=places[number] if places is not None else place,
            )
        )
    return tally(outcomes)


def _retrieval_places(retriever: Retriever, items: list[Judgement]) -> list[int | None]:
    """Each judgement's claim's place (1 = first) in the retriever's ranking of its text,
    weighed for its language as `match --top` weighs it."""
    column = {claim_id: c for c, claim_id in enumerate(retriever.claim_ids)}
    english = [retriever.is_english(item.text) for item in items]
    places: list[int | None] = [None] * len(items)
    for language in (True, False):
        rows = [i for i, flag in enumerate(english) if flag == language]
        if not rows:
            continue
        signals = retriever.signals([items[i].text for i in rows], english=language)
        fused = retriever.fused(signals, english=language)
        for row, i in enumerate(rows):
            places[i] = int((fused[row] > fused[row, column[items[i].claim_id]]).sum()) + 1
    return places


def tally(outcomes: list[Outcome]) -> Evaluation:
    result = Evaluation(outcomes)
    for o in outcomes:
        label, predicted = o.judgement.label, o.predicted
        result.overall.add(label, predicted)
        result.by_tier[o.judgement.tier].add(label, predicted)
        result.by_claim[o.judgement.claim_id].add(label, predicted)
    return result


def sweep(outcomes: list[Outcome], thresholds: Iterable[float]) -> list[tuple[float, Counts]]:
    """Overall counts if every claim needed score t (on ranking-mode scores)."""
    rows = []
    for t in thresholds:
        counts = Counts()
        for o in outcomes:
            counts.add(o.judgement.label, o.score >= t)
        rows.append((t, counts))
    return rows


@dataclass(frozen=True, slots=True)
class Ranking:
    """Ranking mode over one tier's positives: how often their claim came first, came
    in the top 5, and the mean reciprocal rank."""

    tier: str
    judgements: int
    top1: float
    top5: float
    mrr: float


def ranking(outcomes: list[Outcome]) -> list[Ranking]:
    """Ranking quality per positive tier, in TIERS order, then over all positives."""
    by_tier: dict[str, list[int | None]] = defaultdict(list)
    for o in outcomes:
        if o.judgement.label:
            by_tier[o.judgement.tier].append(o.rank)
            by_tier["all"].append(o.rank)
    rows = []
    for tier in [*(t for t in TIERS if t in by_tier), "all"]:
        ranks = by_tier.get(tier)
        if not ranks:
            continue
        n = len(ranks)
        rows.append(
            Ranking(
                tier,
                n,
                top1=sum(r == 1 for r in ranks) / n,
                top5=sum(r is not None and r <= 5 for r in ranks) / n,
                mrr=sum(1 / r for r in ranks if r) / n,
            )
        )
    return rows
