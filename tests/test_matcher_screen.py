"""The screen of a matcher looking for few wordings (a re-match for one claim): it must
never cost a hit, and must spare the texts it rules out their windows."""

import json
from pathlib import Path

import pytest

import claimwatch.matching.matcher as matcher_module
from claimwatch.matching import screen
from claimwatch.matching.catalog import Catalog
from claimwatch.matching.matcher import Matcher

ARTICLES = Path(__file__).parent / "data" / "articles.jsonl"


@pytest.fixture(scope="module")
def filler(catalog: Catalog) -> str:
    """Some 10,000 characters of prose on NATO and Asia that hold no claim of the catalog."""
    rows = [json.loads(line) for line in ARTICLES.read_text(encoding="utf-8").splitlines()]
    whole = Matcher(catalog)
    texts = [r["text"] for r in rows if not r["repeats"] and not whole.find(r["text"])]
    return "\n".join(texts)[:10_000]


def planted(wording: str) -> list[str]:
    """A wording as pages carry it: quoted, split by a long attribution, split across a
    line, in capitals, with a word dropped."""
    words = wording.split()
    half = len(words) // 2
    first, second = " ".join(words[:half]), " ".join(words[half:])
    return [
        f"“{wording}.”",
        f'"{first}," the anchor told viewers gathered in the studio late on Tuesday, "{second}."',
        f"“{first}”, he added.\n“{second}”",
        wording.upper(),
        " ".join(words[:1] + words[2:]),
    ]


def unscreened(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Matcher:
    with monkeypatch.context() as patch:
        patch.setattr(screen, "MAX_WORDINGS", 0)
        return Matcher(catalog)


def test_a_screened_matcher_finds_what_an_unscreened_one_finds(
    catalog: Catalog, filler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = 0
    for claim in catalog.claims:
        one = catalog.only([claim.id])
        screened, full = Matcher(one), unscreened(one, monkeypatch)
        for variant in planted(claim.wordings[0]):
            middle = filler.index(". ", len(filler) // 2) + 2
            text = f"{filler[:middle]}{variant} {filler[middle:]}"
            expected = [(h.claim_id, h.score, h.start, h.end) for h in full.find(text)]
            assert [(h.claim_id, h.score, h.start, h.end) for h in screened.find(text)] == expected
            found += bool(expected)
    # Most plantings are found at all (a dropped word can cost a short claim its match).
    assert found >= 0.9 * 5 * len(catalog.claims)


def test_a_quote_split_by_an_attribution_in_another_script_passes_the_screen(
    catalog: Catalog,
) -> None:
    """The whole text shares too little with the wording here: only the quote's parts,
    read without the attribution between them, do."""
    screened = Matcher(catalog.only(["nato-to-blame-for-ukraine-invasion"]))
    text = (
        'The anchor was blunt: "НАТО несёт ответственность за," the spokesman said at a'
        ' briefing on Tuesday, "вторжение России в Украину."'
    )
    (hit,) = screened.find(text)
    assert hit.matched_text.startswith("НАТО несёт ответственность")
    assert hit.matched_text.endswith("вторжение России в Украину")


def test_the_screen_spares_a_text_without_the_claim_its_windows(
    catalog: Catalog, filler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[str] = []
    windows = matcher_module.candidate_windows
    monkeypatch.setattr(
        matcher_module, "candidate_windows", lambda text: read.append(text) or windows(text)
    )
    assert Matcher(catalog.only(["where-nato-goes-war-is-most-likely"])).find(filler) == []
    assert read == []
    assert Matcher(catalog).find(filler) == []  # the whole catalog: the term index screens
    assert len(read) == 1
