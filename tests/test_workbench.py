"""The workbench in a real browser: the claims page, exports, and its safeguards
(CSRF, sign-in, security headers) against `claimwatch ui` over a sampled warehouse."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.commands import claimwatch
from tests.conftest import SEEDS
from tests.workbench import sample_warehouse, screenshot, workbench

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_warehouse(sample_url, tmp_path_factory)


@pytest.fixture(scope="module")
def ui_url(warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with workbench(warehouse, tmp_path_factory.mktemp("ui")) as url:
        yield url


def catalog_claims() -> dict[str, str]:
    data = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))
    return {c["id"]: c["text"] for c in data["claims"]}


def test_claims_page_lists_every_catalog_claim_with_its_text(ui_url: str, page) -> None:
    page.goto(ui_url + "/")
    assert page.title().startswith("Claims")
    shown = page.locator("table.claims tbody").inner_text()
    claims = catalog_claims()
    missing = [i for i, text in claims.items() if text not in shown]
    assert not missing, missing
    screenshot(page, "claims")


def test_claims_page_counts_agree_with_the_warehouse(ui_url: str, warehouse: Path) -> None:
    exported = httpx.get(ui_url + "/?format=json", timeout=30).json()
    listed = claimwatch(
        "sql",
        "SELECT claim_id, count(*) AS n FROM claim_matches GROUP BY claim_id",
        "--format",
        "json",
        "--db",
        str(warehouse),
    )
    assert listed.returncode == 0, listed.stderr
    counts = {r["claim_id"]: r["n"] for r in json.loads(listed.stdout)}
    assert counts, "the sample pass matched nothing"
    assert {r["claim_id"]: r["mentions"] for r in exported if r["mentions"]} == counts
    # Filtered by text: only the claims whose text or id holds it (a claim's last word
    # may be in another claim's id alone: "indivisible").
    some = next(iter(counts))
    word = catalog_claims()[some].split()[-1]
    filtered = httpx.get(ui_url + "/", params={"q": word, "format": "csv"}, timeout=30)
    rows = list(csv.DictReader(io.StringIO(filtered.text)))
    held = [word.lower() in f"{r['claim_text']} {r['claim_id']}".lower() for r in rows]
    assert rows and all(held), (word, rows)


def test_every_page_forbids_foreign_scripts_and_framing(ui_url: str) -> None:
    answer = httpx.get(ui_url + "/", timeout=30)
    policy = answer.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    assert answer.headers["referrer-policy"] == "same-origin"


def test_a_post_without_its_csrf_token_is_refused(ui_url: str) -> None:
    with httpx.Client(base_url=ui_url, timeout=30) as client:
        home = client.get("/")  # a session, with its token
        token = re.search(r'<meta name="csrf-token" content="([^"]+)"', home.text)
        assert token, "the page carries no CSRF token"
        refused = client.post("/logout", data={})
        assert refused.status_code == 403
        assert "CSRF" in refused.text
        forged = client.post("/logout", data={"csrf_token": "guessed"})
        assert forged.status_code == 403
        # From another site's page, even with a token.
        elsewhere = client.post(
            "/logout",
            data={"csrf_token": token[1]},
            headers={"Origin": "http://evil.example"},
        )
        assert elsewhere.status_code == 403
        # The same request with the session's token, from the workbench's page, is taken.
        taken = client.post("/logout", data={"csrf_token": token[1]}, headers={"Origin": ui_url})
        assert taken.status_code == 303


def test_with_sign_in_on_anonymous_requests_are_refused(
    warehouse: Path, tmp_path: Path, page
) -> None:
    users = tmp_path / "users"
    added = claimwatch(
        "ui", "add-user", "alice", "--users", str(users), "--password", "s3cret-pass"
    )
    assert added.returncode == 0, added.stderr
    assert "alice:$argon2id$" in users.read_text()
    with workbench(warehouse, tmp_path, "--users", str(users)) as url:
        assert httpx.get(url + "/?format=json", timeout=30).status_code == 401
        page.goto(url + "/?q=NATO")
        assert re.search(r"/login\?next=", page.url)
        page.fill("input[name=name]", "alice")
        page.fill("input[name=password]", "wrong password")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert "Wrong name or password" in page.content()
        assert page.input_value("input[name=name]") == "alice"
        page.fill("input[name=password]", "s3cret-pass")
        with page.expect_navigation():
            page.click("button[type=submit]")
        assert page.url == url + "/?q=NATO", page.inner_text("main")
        assert "alice" in page.locator("header .user").inner_text()
        screenshot(page, "signed-in")


def test_listening_beyond_this_machine_needs_sign_in(warehouse: Path) -> None:
    refused = claimwatch("ui", "--host", "0.0.0.0", "--db", str(warehouse))
    assert refused.returncode != 0
    assert "--users FILE or --user-header NAME" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1


def test_a_users_file_is_read_strictly(tmp_path: Path) -> None:
    users = tmp_path / "users"
    users.write_text("alice:plain-text-password\n", encoding="utf-8")
    added = claimwatch("ui", "add-user", "bob", "--users", str(users), "--password", "long-enough")
    assert added.returncode != 0
    assert f"{users}, line 1: expected NAME:ARGON2-HASH" in added.stderr
    assert users.read_text(encoding="utf-8") == "alice:plain-text-password\n"
    short = claimwatch(
        "ui", "add-user", "bob", "--users", str(tmp_path / "new"), "--password", "short"
    )
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize("secure", [False, True])
def test_the_session_cookie_is_strict_and_secure_when_asked(warehouse: Path, secure: bool) -> None:
    from starlette.testclient import TestClient

    from claimwatch.web import WorkbenchConfig, create_app

    config = WorkbenchConfig(db=warehouse, claims=SEEDS / "claims.yaml", secure_cookies=secure)
    with TestClient(create_app(config), base_url="https://testserver") as client:
        cookie = client.get("/").headers["set-cookie"].lower()
    assert "claimwatch_session=" in cookie and "samesite=strict" in cookie and "httponly" in cookie
    assert ("; secure" in cookie) is secure
