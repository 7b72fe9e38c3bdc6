"""The workbench's review queue in a real browser: suggestions decided by keyboard
(confirm, reject, move), in bulk over a filter, and one decided elsewhere meanwhile;
at every step the UI's pending list is the CLI's (`claimwatch review --format json`)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from markupsafe import escape

from claimwatch.store.connection import connect
from tests.commands import claimwatch, pending
from tests.workbench import sample_warehouse, screenshot, workbench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_warehouse(sample_url, tmp_path_factory)


@pytest.fixture(scope="module")
def ui_url(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with workbench(warehouse, tmp_path_factory.mktemp("ui-review")) as url:
        yield url


def sql(db: Path, query: str) -> list[dict]:
    result = claimwatch("sql", query, "--format", "json", "--db", str(db))
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def agreed(ui_url: str, db: Path) -> list[dict]:
    """The pending list, after checking that the UI's export and the CLI's are the same."""
    cli = pending(db)
    ui = httpx.get(ui_url + "/review", params={"format": "json"}, timeout=30).json()
    assert ui == cli
    return cli


def shown_id(page) -> str:
    return page.locator("form.decide input[name=id]").input_value()


def flash(page) -> str:
    return page.locator("p.flash").inner_text()


def test_the_queue_state_is_in_its_url(ui_url: str, warehouse: Path) -> None:
    # First: it only reads, and the tests below decide most of the sample's suggestions.
    queue = agreed(ui_url, warehouse)
    assert len(queue) >= 2
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        second = client.get("/review", params={"skip": 1}).text
        assert f'name="id" value="{queue[1]["id"]}"' in second
        # Why, in the words of the pass's verifier (as `claimwatch review` says it).
        assert queue[1]["reason"].startswith("close in meaning (0.")
        assert f" · {escape(queue[1]['reason'])}" in second
        assert f"2 of {len(queue)} pending" in second
        past_end = client.get("/review", params={"skip": len(queue)}).text
        assert f'name="id" value="{queue[0]["id"]}"' in past_end
        claim = queue[0]["claim_id"]
        of_claim = client.get("/review", params={"claim": claim, "format": "json"}).json()
        assert of_claim == [r for r in queue if r["claim_id"] == claim]
        scored = client.get("/review/list", params={"above": 40, "format": "json"}).json()
        assert scored == [r for r in queue if r["score"] > 40]
        bad = client.get("/review", params={"above": "lots"})
        assert bad.status_code == 400 and "Traceback" not in bad.text
        assert "above=&#39;lots&#39;: give a score" in bad.text
        unknown = client.get("/review", params={"claim": "no-such-claim"}).text
        assert "No claim no-such-claim in the catalog" in unknown and "0 pending" in unknown
        refused = client.post("/review", data={"id": queue[0]["id"], "action": "confirm"})
        assert refused.status_code == 403
    assert agreed(ui_url, warehouse) == queue


def test_three_suggestions_decided_by_keyboard(ui_url: str, warehouse: Path, page) -> None:
    before = agreed(ui_url, warehouse)
    assert len(before) >= 3, f"the sample pass left {len(before)} suggestions"
    first, second, third = before[:3]
    page.goto(ui_url + "/review")
    assert shown_id(page) == first["id"]  # the best first, as the CLI lists them
    assert f"1 of {len(before)} pending" in page.locator("p.position").inner_text()
    assert first["matched_text"] in page.locator("mark.suggested").inner_text()
    assert first["claim_text"] in page.locator(".claim-text").inner_text()
    in_context = page.locator(".in-context").inner_text()
    assert first["context_before"] in in_context and first["context_after"] in in_context
    screenshot(page, "review")

    with page.expect_navigation():
        page.keyboard.press("c")
    assert flash(page).startswith(f"confirmed {first['id']}: now in claim_matches")
    assert shown_id(page) == second["id"]
    assert [r["id"] for r in agreed(ui_url, warehouse)] == [r["id"] for r in before[1:]]

    page.fill("textarea[name=note]", "mentions it to refute it")
    page.evaluate("document.activeElement.blur()")  # keys act outside fields only
    with page.expect_navigation():
        page.keyboard.press("r")
    assert flash(page).startswith(f"rejected {second['id']}")
    assert shown_id(page) == third["id"]
    agreed(ui_url, warehouse)

    # Moved to a claim of the catalog its article is not matched to yet.
    matched = sql(
        warehouse,
        f"SELECT claim_id FROM claim_matches WHERE article_url = '{third['article_url']}'",
    )
    others = sql(warehouse, "SELECT id FROM claims WHERE in_catalog ORDER BY id")
    taken = {third["claim_id"], *(r["claim_id"] for r in matched)}
    target = next(r["id"] for r in others if r["id"] not in taken)
    page.keyboard.press("m")
    assert page.evaluate("document.activeElement.name") == "to"
    page.keyboard.type(target)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert flash(page) == (
        f"moved {third['id']} from {third['claim_id']} to {target}: "
        "now in claim_matches and the next digest"
    )
    after = agreed(ui_url, warehouse)
    assert not {first["id"], second["id"], third["id"]} & {r["id"] for r in after}
    assert len(after) == len(before) - 3

    confirmed = sql(
        warehouse,
        "SELECT claim_id, article_url, confirmed_by FROM claim_matches WHERE run_id = 'review'",
    )
    assert {"claim_id": first["claim_id"], "article_url": first["article_url"]} | {
        "confirmed_by": "tester"
    } in confirmed
    assert {"claim_id": target, "article_url": third["article_url"], "confirmed_by": "tester"} in (
        confirmed
    )
    rejected = sql(warehouse, "SELECT suggestion_id, decision, reviewer, note FROM reviews")
    assert {
        "suggestion_id": second["id"],
        "decision": "rejected",
        "reviewer": "tester",
        "note": "mentions it to refute it",
    } in rejected
    # The claim pages show the confirmed and the moved sentence.
    for claim_id, sentence in ((first["claim_id"], first), (target, third)):
        page.goto(ui_url + f"/claims/{claim_id}")
        assert " ".join(sentence["matched_text"].split()) in " ".join(
            page.locator("main").inner_text().split()
        )


def test_a_suggestion_decided_elsewhere_meanwhile_records_nothing(
    ui_url: str, warehouse: Path, page
) -> None:
    queue = agreed(ui_url, warehouse)
    assert len(queue) >= 2
    # The next one as a suggestion stored before reasons were: its signals said in words.
    with connect(warehouse, wait=30) as con:
        con.execute("UPDATE suggestions SET reason = NULL WHERE id = ?", [queue[1]["id"]])
    page.goto(ui_url + "/review")
    stale = shown_id(page)
    decided = claimwatch("review", "reject", stale, "--db", str(warehouse))
    assert decided.returncode == 0, decided.stderr
    with page.expect_navigation():
        page.keyboard.press("c")
    assert flash(page) == (
        f"{stale} no longer pending (decided meanwhile, here or with the CLI): nothing recorded"
    )
    assert shown_id(page) == queue[1]["id"]  # the queue goes on
    why = page.locator("section.why").inner_text()
    assert "· closeness in meaning " in why and "verifier's confidence " in why
    assert queue[1]["reason"] not in why
    reviews = sql(warehouse, f"SELECT decision FROM reviews WHERE suggestion_id = '{stale}'")
    assert reviews == [{"decision": "rejected"}]
    # A claim that is not in the catalog: refused in a line, no error page.
    page.fill("input[name=to]", "no-such-claim")
    with page.expect_navigation():
        page.click("button[value=move]")
    assert "nothing recorded: no claim 'no-such-claim' in the catalog" in flash(page)
    assert shown_id(page) == queue[1]["id"]
    agreed(ui_url, warehouse)


def test_bulk_decisions_over_a_list(ui_url: str, warehouse: Path, page) -> None:
    queue = agreed(ui_url, warehouse)
    # The filter below takes the claim with the most waiting; the checked one is another's.
    claims = [r["claim_id"] for r in queue]
    claim = max(claims, key=claims.count)
    assert claims.count(claim) >= 2, f"the sample left {queue} pending"
    checked = next(r["id"] for r in reversed(queue) if r["claim_id"] != claim)
    # The checked ones only.
    page.goto(ui_url + "/review/list")
    screenshot(page, "review-list")
    page.check(f"table.pending input[value='{checked}']")
    with page.expect_navigation():
        page.click("button[value=confirm-selected]")
    assert flash(page) == "confirmed 1 selected: now in claim_matches and the next digest"
    queue = agreed(ui_url, warehouse)
    assert checked not in {r["id"] for r in queue}
    # Every one of a filter.
    of_claim = [r["id"] for r in queue if r["claim_id"] == claim]
    page.goto(ui_url + f"/review/list?claim={claim}")
    listed = page.locator("table.pending input[name=id]")
    assert [listed.nth(i).input_value() for i in range(listed.count())] == of_claim
    exported = httpx.get(ui_url + "/review/list", params={"claim": claim, "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["id"] for r in rows] == of_claim and rows[0]["signals"].startswith("{")
    # Another reviewer takes one meanwhile: the filter no longer selects what was shown.
    elsewhere = claimwatch("review", "reject", of_claim[-1], "--db", str(warehouse))
    assert elsewhere.returncode == 0, elsewhere.stderr
    with page.expect_navigation():
        page.click(f"button:has-text('Reject all {len(of_claim)} of this filter')")
    assert flash(page) == (
        f"the filter now selects {len(of_claim) - 1} pending, not the {len(of_claim)} shown: "
        "nothing recorded; look at the list again"
    )
    assert len(agreed(ui_url, warehouse)) == len(queue) - 1
    with page.expect_navigation():
        page.click(f"button:has-text('Reject all {len(of_claim) - 1} of this filter')")
    assert flash(page) == f"rejected {len(of_claim) - 1} (claim {claim}): not suggested again"
    assert not page.locator("table.pending").count()
    left = agreed(ui_url, warehouse)
    assert [r["id"] for r in left] == [r["id"] for r in queue if r["claim_id"] != claim]
    rejected = sql(
        warehouse,
        "SELECT suggestion_id FROM reviews WHERE decision = 'rejected' AND reviewer = 'tester'",
    )
    assert set(of_claim[:-1]) <= {r["suggestion_id"] for r in rejected}
