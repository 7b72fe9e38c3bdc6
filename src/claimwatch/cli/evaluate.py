"""`claimwatch eval`: the matcher measured on a labelled set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from claimwatch.cli.common import PATH, claims_option, db_option, settings_from
from claimwatch.matching.catalog import load_catalog
from claimwatch.output.tables import render

ARTICLES = Path("tests/data/articles.jsonl")


@click.command("eval")
@click.option(
    "--data",
    type=PATH,
    default=Path("tests/data/devset.jsonl"),
    show_default=True,
    help="Labelled set: JSON lines {id, claim_id, tier, label, text}.",
)
@claims_option
@click.option("--threshold", type=click.FloatRange(0, 100), help="Default threshold (88).")
@click.option(
    "--show",
    type=click.IntRange(min=0),
    default=15,
    show_default=True,
    help="How many misses and false hits to list.",
)
@click.option(
    "--articles",
    type=PATH,
    default=ARTICLES,
    show_default=True,
    help="Labelled articles: restatements, translations and hard negatives, whole.",
)
@click.option(
    "--split",
    type=click.Choice(["report", "tune", "all"]),
    default="report",
    show_default=True,
    help="Which half of the articles: thresholds are tuned on 'tune'.",
)
@click.option(
    "--reviews",
    is_flag=True,
    help="Also measure detection on the reviewers' decisions in the warehouse (--db).",
)
@db_option
def evaluate_command(
    data: Path,
    claims: Path | None,
    threshold: float | None,
    show: int,
    articles: Path,
    split: str,
    reviews: bool,
    db: Path | None,
) -> None:
    """Measure the matcher on a labelled set: precision and recall per tier and
    per claim, the misses and false hits with their scores, a threshold sweep,
    and where ranking mode places each positive's claim. Then detection on whole
    articles: restatements and translations found as confirmed matches and as
    suggestions, suggestions per article and their precision.

    Example:

        claimwatch eval --data tests/data/devset.jsonl --threshold 85
    """
    from claimwatch.matching.article_eval import load_articles, reviewed_sentences
    from claimwatch.matching.encoder import ranking_encoders
    from claimwatch.matching.evaluate import evaluate, load_judgements, ranking, sweep
    from claimwatch.matching.matcher import Matcher
    from claimwatch.matching.retrieval import Retriever

    settings = settings_from(claims=claims, match_threshold=threshold, db=db)
    catalog = load_catalog(settings.claims)
    matcher = Matcher(catalog, threshold=settings.match_threshold)
    english, multilingual = ranking_encoders(settings.encoder, settings.cache_dir)
    retriever = Retriever(catalog, english, settings.cache_dir, multilingual)
    result = evaluate(matcher, load_judgements(data, catalog), retriever)

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    def counts_row(name: str, c: Any) -> tuple:
        return (name, c.total, c.tp, c.fp, c.fn, rate(c.precision), rate(c.recall))

    columns = ["", "judgements", "tp", "fp", "fn", "precision", "recall"]
    click.echo(
        f"{data}: {len(result.outcomes)} judgements; default threshold "
        f"{settings.match_threshold:g}\n"
    )
    tiers = [counts_row(t, c) for t, c in sorted(result.by_tier.items(), key=_tier_order)]
    click.echo(render(columns, [*tiers, counts_row("all", result.overall)]))
    click.echo("\nPer claim:")
    click.echo(render(columns, [counts_row(k, c) for k, c in sorted(result.by_claim.items())]))
    for title, outcomes in (("Misses", result.misses), ("False hits", result.false_hits)):
        click.echo(f"\n{title} ({len(outcomes)}):")
        rows = [
            (o.judgement.id, o.judgement.tier, o.judgement.claim_id, o.score, o.judgement.text)
            for o in sorted(outcomes, key=lambda o: -o.score)[:show]
        ]
        click.echo(render(["id", "tier", "claim_id", "score", "text"], rows))
    click.echo("\nThreshold sweep (every claim at the same threshold, ranking-mode scores):")
    sweep_rows = [
        (t, rate(c.precision), rate(c.recall)) for t, c in sweep(result.outcomes, range(70, 100, 2))
    ]
    click.echo(render(["threshold", "precision", "recall"], sweep_rows))
    click.echo("\nRanking mode (match --top K): where each positive's claim is placed:")
    rank_rows = [
        (r.tier, r.judgements, f"{r.top1:.3f}", f"{r.top5:.3f}", f"{r.mrr:.3f}")
        for r in ranking(result.outcomes)
    ]
    click.echo(render(["", "judgements", "first", "top 5", "MRR"], rank_rows))
    if articles != ARTICLES or articles.exists():
        known = {c.id for c in catalog.claims}
        chosen = [a for a in load_articles(articles, known) if split in ("all", a.split)]
        title = f"Articles ({articles}, {split}: {len(chosen)})"
        _detection_section(title, chosen, catalog, settings)
    if reviews:
        from claimwatch.store.connection import connect
        from claimwatch.store.reviews import review_rows

        with connect(settings.db, read_only=True, wait=settings.lock_wait) as con:
            decided = [r for r in review_rows(con) if r[1] in {c.id for c in catalog.claims}]
        title = f"Reviews ({settings.db}: {len(decided)} decisions, the confirmed ones positive)"
        _detection_section(title, reviewed_sentences(decided), catalog, settings)


def _detection_section(title: str, chosen: list[Any], catalog: Any, settings: Any) -> None:
    """Detection as a pass runs it, on labelled texts: found as a match or suggested."""
    from claimwatch.matching.article_eval import evaluate_articles
    from claimwatch.matching.detector import DetectorSpec

    result = evaluate_articles(
        DetectorSpec.learned(catalog, **settings.detector_options()).build(), chosen
    )

    def rate(value: float | None) -> str:
        return "-" if value is None else f"{value:.3f}"

    click.echo(f"\n{title}: found as a match, or suggested:")
    rows = [
        (
            tier,
            result.labelled[tier],
            rate(result.recall(tier, with_suggestions=False)),
            rate(result.recall(tier, with_suggestions=True)),
        )
        for tier in sorted(result.labelled)
    ]
    click.echo(render(["", "repeats", "confirmed", "with suggestions"], rows))
    click.echo(
        f"suggestions per article {result.suggestions_per_article:.2f}, "
        f"suggestion precision {rate(result.suggestion_precision)}, "
        f"wrong matches {result.false_matches}, evidence from page furniture "
        f"{result.from_furniture}"
    )
    if len(result.by_language) > 1:
        click.echo("\nBy language (as each article is labelled):")
        columns = ["", "articles", "repeats", "found", "suggestions", "right"]
        language_rows = [
            (language or "-", c.articles, c.repeats, c.found, c.suggestions, c.right_suggestions)
            for language, c in sorted(result.by_language.items())
        ]
        click.echo(render(columns, language_rows))


def _tier_order(item: tuple[str, Any]) -> int:
    from claimwatch.matching.evaluate import TIERS

    return TIERS.index(item[0])
