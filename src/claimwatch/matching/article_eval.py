"""Measuring detection on whole articles: confirmed and suggested, per tier, and page furniture.

A labelled article set is JSON lines, one article each:
    {"id": "a001", "split": "tune"|"report", "language": "fr", "title": "...", "text": "...",
     "boilerplate": ["lines of furniture in text"],
     "repeats": [{"claim_id": "...", "tier": "restatement"|"translation", "sentence": "..."}]}
An article with no repeats is a hard negative. Tune thresholds on the "tune" split and
report the "report" split (`claimwatch eval --articles FILE --split report`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from claimwatch.matching.detector import Detector
from claimwatch.matching.evaluate import LabelledSetError
from claimwatch.tablefile import MAX_TABLE_BYTES, read_json_lines
from claimwatch.userfile import read_text


@dataclass(frozen=True, slots=True)
class LabelledArticle:
    id: str
    split: str
    language: str
    title: str
    text: str
    boilerplate: tuple[str, ...]
    repeats: tuple[tuple[str, str], ...]  # (claim id, tier)


@dataclass
class LanguageCounts:
    """Counts over the articles of one language."""

    articles: int = 0
    repeats: int = 0
    found: int = 0  # as confirmed or suggested
    suggestions: int = 0
    right_suggestions: int = 0


@dataclass
class ArticleEvaluation:
    """Counts over a set of articles."""

    articles: int = 0
    # Per tier: repeats labelled, found as confirmed, found as confirmed or suggested.
    labelled: Counter[str] = field(default_factory=Counter)
    confirmed: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    suggestions: int = 0
    right_suggestions: int = 0
    matches: int = 0  # confirmed (article, claim) pairs
    false_matches: int = 0
    from_furniture: int = 0
    errors: list[str] = field(default_factory=list)
    # By the language each article is labelled with.
    by_language: dict[str, LanguageCounts] = field(default_factory=dict)

    def recall(self, tier: str, *, with_suggestions: bool) -> float | None:
        found = self.found if with_suggestions else self.confirmed
        return found[tier] / self.labelled[tier] if self.labelled[tier] else None

    @property
    def suggestion_precision(self) -> float | None:
        return self.right_suggestions / self.suggestions if self.suggestions else None

    @property
    def confirmed_precision(self) -> float | None:
        return 1 - self.false_matches / self.matches if self.matches else None

    @property
    def suggestions_per_article(self) -> float:
        return self.suggestions / self.articles if self.articles else 0.0


def load_articles(path: Path, known_claims: set[str]) -> list[LabelledArticle]:
    articles = []
    text = read_text(path, LabelledSetError, MAX_TABLE_BYTES)
    for number, raw in read_json_lines(path, text, LabelledSetError):
        try:
            article = LabelledArticle(
                id=raw["id"],
                split=raw["split"],
                language=raw["language"],
                title=raw["title"],
                text=raw["text"],
                boilerplate=tuple(raw.get("boilerplate", ())),
                repeats=tuple((r["claim_id"], r["tier"]) for r in raw["repeats"]),
            )
        except (KeyError, TypeError) as exc:
            raise LabelledSetError(f"{path}:{number}: not a labelled article ({exc})") from None
        unknown = {c for c, _ in article.repeats} - known_claims
        if unknown:
            raise LabelledSetError(
                f"{path}:{number}: claim {sorted(unknown)[0]!r} is not in the catalog"
            )
        articles.append(article)
    return articles


def reviewed_sentences(decisions: list[tuple[str, str, str, str]]) -> list[LabelledArticle]:
    """Reviewers' decisions as a labelled set: (suggestion id, claim id, decision, sentence)
    rows; a confirmed sentence repeats its claim ("reviewed"), a rejected one does not."""
    return [
        LabelledArticle(
            id=suggestion_id,
            split="reviews",
            language="",
            title="",
            text=sentence,
            boilerplate=(),
            repeats=((claim_id, "reviewed"),) if decision == "confirmed" else (),
        )
        for suggestion_id, claim_id, decision, sentence in decisions
    ]


def evaluate_articles(detector: Detector, articles: list[LabelledArticle]) -> ArticleEvaluation:
    result = ArticleEvaluation()
    for article in articles:
        result.articles += 1
        found = detector.detect(f"eval:{article.id}", article.text, title=article.title)
        expected = dict(article.repeats)
        confirmed = {m.claim_id for m in found.matches}
        suggested = {s.claim_id for s in found.suggestions}
        right = len(suggested & expected.keys())
        counts = result.by_language.setdefault(article.language, LanguageCounts())
        counts.articles += 1
        for claim_id, tier in article.repeats:
            result.labelled[tier] += 1
            result.confirmed[tier] += claim_id in confirmed
            result.found[tier] += claim_id in confirmed | suggested
            counts.repeats += 1
            counts.found += claim_id in confirmed | suggested
        result.suggestions += len(found.suggestions)
        result.right_suggestions += right
        counts.suggestions += len(found.suggestions)
        counts.right_suggestions += right
        result.matches += len(confirmed)
        result.false_matches += len(confirmed - expected.keys())
        spans = [(m.field, m.start, m.end) for m in found.matches] + [
            (s.field, s.start, s.end) for s in found.suggestions
        ]
        for field_name, start, end in spans:
            if field_name == "text" and _inside_furniture(article, start, end):
                result.from_furniture += 1
                result.errors.append(f"{article.id}: evidence from furniture at {start}-{end}")
    return result


def _inside_furniture(article: LabelledArticle, start: int, end: int) -> bool:
    for line in article.boilerplate:
        at = article.text.find(line)
        while at >= 0:
            if start < at + len(line) and end > at:
                return True
            at = article.text.find(line, at + 1)
    return False
