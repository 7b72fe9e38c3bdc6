"""Accuracy floors on the development set, run as the pipeline runs the matcher."""

import json
from pathlib import Path

import pytest

from claimwatch.matching.catalog import Catalog
from claimwatch.matching.evaluate import (
    Evaluation,
    Judgement,
    LabelledSetError,
    Outcome,
    evaluate,
    load_judgements,
    ranking,
    sweep,
)
from claimwatch.matching.matcher import Matcher
from tests.conftest import ROOT

DEVSET = ROOT / "tests" / "data" / "devset.jsonl"


@pytest.fixture(scope="module")
def result(catalog: Catalog) -> Evaluation:
    return evaluate(Matcher(catalog), load_judgements(DEVSET, catalog))


def test_devset_shape(catalog: Catalog) -> None:
    judgements = load_judgements(DEVSET, catalog)
    assert len(judgements) >= 300
    negatives = sum(j.tier == "negative" for j in judgements)
    assert negatives * 3 >= len(judgements)
    assert {j.tier for j in judgements} == {
        "exact",
        "near",
        "paraphrase",
        "translation",
        "negative",
    }
    assert all(j.label == (j.tier != "negative") for j in judgements)


def test_precision_and_recall_floors(result: Evaluation) -> None:
    tiers = result.by_tier
    assert result.overall.precision is not None and result.overall.precision >= 0.97
    assert tiers["exact"].recall == 1.0
    assert tiers["near"].recall is not None and tiers["near"].recall >= 0.95
    # Below the targets of 0.80 and 0.60 (see docs/benchmarks.md); these
    # floors only stop a regression.
    assert tiers["translation"].recall is not None and tiers["translation"].recall >= 0.65
    assert tiers["negative"].fp == 0


def test_exact_and_near_rank_their_claim_first(catalog: Catalog) -> None:
    matcher = Matcher(catalog)
    wrong = []
    for j in load_judgements(DEVSET, catalog):
        if j.tier in ("exact", "near"):
            ranked = matcher.rank(j.text, top=5)
            if not ranked or ranked[0].claim_id != j.claim_id:
                wrong.append(j.id)
    assert wrong == []


def test_sweep_trades_precision_for_recall(result: Evaluation) -> None:
    (_, low), (_, high) = sweep(result.outcomes, [60, 99])
    assert low.recall is not None and high.recall is not None
    assert low.recall > high.recall
    assert low.fp > high.fp


def test_bad_labelled_line_is_named(tmp_path: Path, catalog: Catalog) -> None:
    path = tmp_path / "set.jsonl"
    good = {
        "id": "1",
        "claim_id": catalog.claims[0].id,
        "tier": "exact",
        "label": True,
        "text": "x",
    }
    path.write_text(json.dumps(good) + "\n" + json.dumps(good | {"tier": "fuzzy"}) + "\n")
    with pytest.raises(LabelledSetError, match=r"set\.jsonl:2: unknown tier 'fuzzy'"):
        load_judgements(path, catalog)
    path.write_text(json.dumps(good | {"claim_id": "nope"}) + "\n")
    with pytest.raises(LabelledSetError, match="claim 'nope' is not in the catalog"):
        load_judgements(path, catalog)


def test_ranking_counts_places_per_positive_tier() -> None:
    def outcome(tier: str, rank: int | None, label: bool = True) -> Outcome:
        judgement = Judgement(id="x", claim_id="c", tier=tier, label=label, text="t")
        return Outcome(judgement, predicted=False, score=0.0, threshold=88.0, rank=rank)

    rows = ranking(
        [
            outcome("near", 1),
            outcome("near", 2),
            outcome("paraphrase", 7),
            outcome("paraphrase", None),  # its claim scored nothing
            outcome("negative", 1, label=False),  # negatives are not ranked
        ]
    )
    assert [(r.tier, r.judgements) for r in rows] == [("near", 2), ("paraphrase", 2), ("all", 4)]
    near, paraphrase, every = rows
    assert (near.top1, near.top5, near.mrr) == (0.5, 1.0, 0.75)
    assert (paraphrase.top1, paraphrase.top5) == (0.0, 0.0)
    assert paraphrase.mrr == pytest.approx(1 / 7 / 2)
    assert every.mrr == pytest.approx((1 + 0.5 + 1 / 7) / 4)


def test_exact_and_near_ranks_reported_as_first(result: Evaluation) -> None:
    rows = {r.tier: r for r in ranking(result.outcomes)}
    assert rows["exact"].top1 == 1.0 and rows["near"].top1 == 1.0
