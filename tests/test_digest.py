"""Digests end to end: a real SMTP server (aiosmtpd, STARTTLS and login), a real webhook
server, real DuckDB files; delivered once, never marked when a delivery fails."""

from __future__ import annotations

import asyncio
import email
import ipaddress
import json
import os
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from claimwatch.delivery.build import prepare
from claimwatch.delivery.config import load_digest_config
from claimwatch.delivery.ledger import exclusive_run
from claimwatch.delivery.render import render_digest
from claimwatch.delivery.run import run_digest
from claimwatch.exceptions import DigestError
from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect
from tests.commands import claimwatch
from tests.conftest import ROOT
from tests.httpserver import Reply, Request, ScriptedServer, scripted_server
from tests.test_stories import WIRE, WIRE_QUOTE, variants
from tests.warehouses import (
    UKRAINE,
    UKRAINE_QUOTE,
    WAR,
    WAR_QUOTE,
    article,
    match_in,
    populated_warehouse,
    store,
)

WAREHOUSE = ROOT / "warehouse"
PASSWORD = "correct horse battery staple"
REAL_MATCHES = 4  # populated_warehouse stores 5 matches; one is from the sample source


# --- servers the tests start -------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 that the client trusts through `ca_file`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "claimwatch test SMTP")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


class Inbox:
    """An aiosmtpd handler and authenticator that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[tuple[str, str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        message = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(message)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=password == PASSWORD, handled=False)


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[tuple[Inbox, int, Path]]:
    """An SMTP server on 127.0.0.1 that requires STARTTLS before login."""
    cert, key = self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        loop=asyncio.new_event_loop(),
        tls_context=context,
        require_starttls=True,
        authenticator=inbox.authenticate,
        auth_require_tls=True,
    )
    controller.start()
    try:
        yield inbox, port, cert
    finally:
        controller.stop()
        controller.loop.close()


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def db(tmp_path: Path, catalog: Catalog) -> Path:
    return populated_warehouse(tmp_path / "w.duckdb", catalog)


def write_config(
    path: Path,
    channels: list[dict[str, Any]],
    subscriptions: list[dict[str, Any]] | None = None,
    **options: Any,
) -> Path:
    names = [c["name"] for c in channels]
    data = {
        "digest": options,
        "channels": channels,
        "subscriptions": subscriptions or [{"name": "all", "channels": names}],
    }
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def digest_cli(config: Path, db: Path, *args: str, env: dict[str, str] | None = None) -> Any:
    return claimwatch(
        "digest", "--config", str(config), "--db", str(db), *args, env=os.environ | (env or {})
    )


def delivered(db: Path) -> set[tuple[str, str, str]]:
    with connect(db, read_only=True) as con:
        rows = con.execute("SELECT channel, article_url, claim_id FROM delivered_matches")
        return {tuple(r) for r in rows.fetchall()}  # type: ignore[misc]


def ledger(db: Path) -> list[tuple[Any, ...]]:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT channel, status, matches, detail FROM digests ORDER BY finished_at"
        ).fetchall()


def webhook(url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "hook", "kind": "webhook", "url": url, "retry_delay": 0.05} | extra


def posts(server: ScriptedServer) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in server.requests if r.method == "POST"]


# --- tests --------------------------------------------------------------------------------


def test_dry_run_prints_and_marks_nothing(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    config = write_config(
        tmp_path / "d.yaml", [{"name": "archive", "kind": "directory", "path": str(folder)}]
    )
    result = digest_cli(config, db, "--dry-run", "--format", "markdown")
    assert result.returncode == 0, result.stderr
    assert "## claimwatch digest: 4 new matches of 2 claims" in result.stdout
    assert f"**{WAR_QUOTE}**" in result.stdout
    assert "&lt;script&gt;" in result.stdout and "<script>" not in result.stdout
    # The warehouse's one pending suggestion is a reminder at the end, with its id.
    review = result.stdout[result.stdout.index("### To review: 1 suggestion") :]
    assert f"{WAR}:" in review and "claimwatch review" in review
    assert "Dry run: nothing was sent or marked as sent." in result.stderr
    assert not folder.exists()
    assert ledger(db) == [] and delivered(db) == set()


def test_smtp_with_starttls_and_login_delivers_once(
    db: Path, tmp_path: Path, smtp: tuple[Inbox, int, Path]
) -> None:
    inbox, port, cert = smtp
    channel = {
        "name": "analysts",
        "kind": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "security": "starttls",
        "username": "claimwatch",
        "ca_file": str(cert),
        "from": "claimwatch@example.org",
        "to": ["desk@example.org", "lead@example.org"],
    }
    config = write_config(tmp_path / "d.yaml", [channel])
    env = {"CLAIMWATCH_SMTP_PASSWORD": PASSWORD}

    first = digest_cli(config, db, env=env)
    assert first.returncode == 0, first.stderr
    assert len(inbox.messages) == 1
    assert inbox.logins == [("claimwatch", PASSWORD)]
    message = inbox.messages[0]
    assert message["Subject"] == "claimwatch digest: 4 new matches of 2 claims"
    assert inbox.envelopes[0] == (
        "claimwatch@example.org",
        ["desk@example.org", "lead@example.org"],
    )
    text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert f">>{WAR_QUOTE}<<" in text and f">>{UKRAINE_QUOTE}<<" in text
    assert f"<mark>{WAR_QUOTE}</mark>" in html
    assert "&lt;script&gt;alert(" in html and "<script>" not in html
    assert "http://wire.example/ukr-1" in html

    secrets = first.stdout + first.stderr + json.dumps(ledger(db), default=str)
    assert PASSWORD not in secrets
    assert len(delivered(db)) == REAL_MATCHES

    second = digest_cli(config, db, env=env)
    assert second.returncode == 0, second.stderr
    assert "analysts: nothing new, nothing sent" in second.stderr
    assert len(inbox.messages) == 1


def test_smtp_wrong_password_marks_nothing(
    db: Path, tmp_path: Path, smtp: tuple[Inbox, int, Path]
) -> None:
    inbox, port, cert = smtp
    channel = {
        "name": "analysts",
        "kind": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "username": "claimwatch",
        "ca_file": str(cert),
        "from": "claimwatch@example.org",
        "to": ["desk@example.org"],
    }
    config = write_config(tmp_path / "d.yaml", [channel])
    result = digest_cli(config, db, env={"CLAIMWATCH_SMTP_PASSWORD": "wrong"})
    assert result.returncode == 1
    assert f"analysts: FAILED: smtp://127.0.0.1:{port}: login refused (535)" in result.stderr
    assert "wrong" not in result.stderr.replace("wrong password", "")
    assert inbox.messages == [] and delivered(db) == set()
    assert [r[:3] for r in ledger(db)] == [("analysts", "failed", REAL_MATCHES)]


def test_failed_delivery_marks_nothing_and_the_next_run_delivers_exactly_once(
    db: Path, tmp_path: Path, catalog: Catalog
) -> None:
    port = free_port()  # nothing listens here yet: the webhook server is down
    url = f"http://127.0.0.1:{port}/hook"
    config = write_config(tmp_path / "d.yaml", [webhook(url, retries=1)])

    down = digest_cli(config, db)
    assert down.returncode == 1
    assert f"hook: FAILED: http://127.0.0.1:{port}/…: connection failed" in down.stderr
    assert "1 of 1 deliveries failed; their matches stay pending" in down.stderr
    assert delivered(db) == set()
    assert [r[:3] for r in ledger(db)] == [("hook", "failed", REAL_MATCHES)]

    with scripted_server(port) as server:
        server.add("/hook", Reply(200, b"ok"))
        up = digest_cli(config, db)
        assert up.returncode == 0, up.stderr
        again = digest_cli(config, db)
        assert again.returncode == 0, again.stderr
        sent = posts(server)
        assert len(sent) == 1
        keys = [(i["article_url"], i["claim_id"]) for i in sent[0]["items"]]
        assert len(keys) == len(set(keys)) == REAL_MATCHES
        assert {k[1] for k in keys} == {WAR, UKRAINE}
        assert server.requests[0].headers["X-Claimwatch-Digest"] == sent[0]["digest_id"]

        # A later pass adds one new story and a third copy of a story already sent.
        fresh = article(
            "war-2", "Northgate Observer", 30, f"A reader wrote that {WAR_QUOTE}, again."
        )
        echo = article(
            "ukr-3",
            "Tideline",
            31,
            f'The line "{UKRAINE_QUOTE}" went round again.',
            title="Wire: Tokyo speech revives old warning",
        )
        store(
            db,
            catalog,
            "run-3",
            32,
            [fresh, echo],
            [match_in(fresh, WAR, WAR_QUOTE), match_in(echo, UKRAINE, UKRAINE_QUOTE)],
        )
        later = digest_cli(config, db)
        assert later.returncode == 0, later.stderr
        sent = posts(server)
        assert len(sent) == 2
        assert {i["article_url"] for i in sent[1]["items"]} == {fresh.url, echo.url}
        assert "New copies of stories sent before" in sent[1]["text"]
        assert "Tideline" in sent[1]["text"].split("New copies of stories sent before")[1]
    assert [r[:3] for r in ledger(db)] == [
        ("hook", "failed", REAL_MATCHES),
        ("hook", "delivered", REAL_MATCHES),
        ("hook", "delivered", 2),
    ]
    assert len(delivered(db)) == REAL_MATCHES + 2


def test_server_errors_are_retried_client_errors_are_not(
    db: Path, tmp_path: Path, server: ScriptedServer
) -> None:
    busy = server.add("/busy", Reply(503, b"try later"))
    config = write_config(tmp_path / "busy.yaml", [webhook(busy, retries=2)])
    result = digest_cli(config, db)
    assert result.returncode == 1
    assert server.hits("/busy") == 3
    assert "HTTP 503 try later" in result.stderr

    wrong = server.add("/wrong", Reply(400, b"bad payload"))
    config = write_config(tmp_path / "wrong.yaml", [webhook(wrong, retries=2)])
    result = digest_cli(config, db)
    assert result.returncode == 1
    assert server.hits("/wrong") == 1
    assert delivered(db) == set()


def test_a_webhook_answering_429_is_retried_after_its_retry_after(
    db: Path, tmp_path: Path, server: ScriptedServer
) -> None:
    arrivals: list[float] = []

    def limited(request: Request) -> Reply:
        arrivals.append(time.monotonic())
        if request.count == 1:
            return Reply(429, b"slow down", headers={"Retry-After": "1"})
        return Reply(200, b"ok")

    url = server.add("/limited", limited)
    # retry_delay 0.05 s: without Retry-After the second try would come after 0.05 s.
    config = write_config(tmp_path / "limited.yaml", [webhook(url, retries=2)])
    result = digest_cli(config, db)
    assert result.returncode == 0, result.stderr
    assert server.hits("/limited") == 2
    assert 0.9 <= arrivals[1] - arrivals[0] < 5
    assert [r[:3] for r in ledger(db)] == [("hook", "delivered", REAL_MATCHES)]


@pytest.mark.parametrize("style", ["slack", "discord", "teams"])
def test_chat_payloads(style: str, db: Path, tmp_path: Path, server: ScriptedServer) -> None:
    url = server.add("/chat", Reply(200, b"ok"))
    # The URL comes from the environment, as chat webhook URLs (credentials) should.
    channel = {"name": "chat", "kind": "webhook", "url_env": "TEAM_HOOK", "style": style}
    config = write_config(tmp_path / "d.yaml", [channel])
    result = digest_cli(config, db, env={"TEAM_HOOK": url})
    assert result.returncode == 0, result.stderr
    assert "/chat" not in result.stderr  # the secret path is never shown
    (payload,) = posts(server)
    if style == "slack":
        assert payload["text"].startswith("*claimwatch digest: 4 new matches of 2 claims*")
        assert "&lt;script&gt;" in payload["text"] and "<script>" not in payload["text"]
        assert "<http://wire.example/ukr-1|" in payload["text"]
    elif style == "discord":
        assert payload["allowed_mentions"] == {"parse": []}
        assert len(payload["content"]) <= 2000
        assert "&lt;script&gt;" in payload["content"]
    else:
        card = payload["attachments"][0]
        assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
        assert "claimwatch digest" in card["content"]["body"][0]["text"]


def test_subscriptions_choose_claims_tags_scores_and_sample(
    db: Path, tmp_path: Path, catalog: Catalog
) -> None:
    war_only_tag = next(t for t in catalog.get(WAR).tags if t not in catalog.get(UKRAINE).tags)
    channels = [{"name": n, "kind": "stdout"} for n in ("by-claim", "by-tag", "with-sample")]
    subscriptions = [
        {"name": "a", "claims": [UKRAINE], "min_score": 98, "channels": ["by-claim"]},
        {"name": "b", "tags": [war_only_tag], "channels": ["by-tag"]},
        {"name": "c", "claims": [UKRAINE], "include_sample": True, "channels": ["with-sample"]},
    ]
    config = load_digest_config(write_config(tmp_path / "d.yaml", channels, subscriptions))
    digests = {
        d.channel.name: d
        for d in prepare(db, WAREHOUSE / "reports", WAREHOUSE / "migrations", config)
    }
    assert {i.article_url for i in digests["by-claim"].items} == {"http://wire.example/ukr-1"}
    assert {i.claim_id for i in digests["by-tag"].items} == {WAR}
    assert digests["by-tag"].matches == 2
    assert {i.outlet for i in digests["with-sample"].items} == {
        "The Meridian Post",
        "Polar Wire",
        "Demo Outlet",
    }
    # The two copies of the syndicated story are one story, the older one leading.
    (group,) = digests["with-sample"].groups
    stories = {s.lead.outlet: [c.outlet for c in s.copies] for s in group.stories}
    assert stories == {"The Meridian Post": ["Polar Wire"], "Demo Outlet": []}


def test_an_empty_period_sends_nothing_unless_asked(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    channel = {"name": "archive", "kind": "directory", "path": str(folder), "format": "markdown"}
    config = write_config(tmp_path / "d.yaml", [channel])
    assert digest_cli(config, db).returncode == 0
    assert len(list(folder.iterdir())) == 1
    assert digest_cli(config, db).returncode == 0
    assert len(list(folder.iterdir())) == 1 and len(ledger(db)) == 1

    config = write_config(tmp_path / "d.yaml", [channel | {"send_empty": True}])
    assert digest_cli(config, db).returncode == 0
    notes = sorted(folder.iterdir())
    assert len(notes) == 2
    assert any("Nothing new" in p.read_text(encoding="utf-8") for p in notes)
    assert [r[1:3] for r in ledger(db)] == [("delivered", REAL_MATCHES), ("delivered", 0)]


def test_since_limits_what_is_considered(db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "d.yaml", [{"name": "terminal", "kind": "stdout"}])
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    later = digest_cli(config, db, "--dry-run", "--since", future)
    assert "terminal (stdout): 0 new matches of 0 claims; nothing would be sent" in later.stderr
    recent = digest_cli(config, db, "--dry-run", "--since", "2h")
    assert "terminal (stdout): 4 new matches of 2 claims" in recent.stderr
    bad = digest_cli(config, db, "--since", "last tuesday")
    assert bad.returncode == 1
    assert bad.stderr.strip().startswith("Error: --since 'last tuesday': expected an ISO date")


def test_stdout_channel_delivers_to_standard_output(db: Path, tmp_path: Path) -> None:
    config = write_config(tmp_path / "d.yaml", [{"name": "terminal", "kind": "stdout"}])
    result = digest_cli(config, db)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("claimwatch digest: 4 new matches of 2 claims")
    assert "terminal: delivered 4 matches of 2 claims" in result.stderr
    assert "\x1b" not in result.stdout


@pytest.mark.parametrize(
    ("channels", "subscriptions", "message"),
    [
        (
            [{"name": "a", "kind": "stdout"}],
            [{"name": "s", "channels": ["b"]}],
            "subscription 's': channel 'b' is not listed under channels",
        ),
        (
            [{"name": "a", "kind": "stdout"}],
            [{"name": "s", "claims": ["no-such-claim"], "channels": ["a"]}],
            "subscription 's': claim 'no-such-claim' is not in seeds/claims.yaml",
        ),
        (
            [{"name": "h", "kind": "webhook", "url": "http://x.example/", "url_env": "X"}],
            None,
            "channel 'h': give exactly one of url and url_env",
        ),
        (
            [{"name": "m", "kind": "smtp", "host": "h", "to": ["a@b.example"]}],
            None,
            "channel 'm': field 'from': Field required",
        ),
    ],
)
def test_bad_digest_files_give_one_line(
    db: Path, tmp_path: Path, channels: list, subscriptions: list | None, message: str
) -> None:
    config = write_config(tmp_path / "d.yaml", channels, subscriptions)
    result = digest_cli(config, db)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [f"Error: {config}: {message}"]


def test_two_runs_never_send_at_once(db: Path, tmp_path: Path) -> None:
    config = load_digest_config(
        write_config(tmp_path / "d.yaml", [{"name": "terminal", "kind": "stdout"}])
    )
    with exclusive_run(db), pytest.raises(DigestError, match="another digest run"):
        run_digest(db, WAREHOUSE, config)
    assert ledger(db) == []


def test_seed_digest_file_is_valid(catalog: Catalog) -> None:
    seeds = ROOT / "seeds"
    config = load_digest_config(seeds / "digest.yaml")
    config.check_against(catalog, seeds / "digest.yaml", seeds / "claims.yaml")
    assert {c.kind for c in config.channels} >= {"stdout", "directory"}


def test_digest_flow_delivers_writes_the_overview_and_publishes_artifacts(
    db: Path, tmp_path: Path, smtp: tuple[Inbox, int, Path], catalog: Catalog
) -> None:
    """The flow as serve runs it, with the SMTP password in a Prefect Secret block."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
    from prefect.flows import load_flow_from_entrypoint
    from prefect.testing.utilities import prefect_test_harness

    inbox, port, cert = smtp
    unmatched = next(c.id for c in catalog.claims if c.id not in (WAR, UKRAINE))
    overview = tmp_path / "html" / "overview.html"
    channel = {
        "name": "analysts",
        "kind": "smtp",
        "host": "127.0.0.1",
        "port": port,
        "username": "claimwatch",
        "password_block": "claimwatch-smtp",
        "ca_file": str(cert),
        "from": "claimwatch@example.org",
        "to": ["desk@example.org"],
    }
    config = write_config(
        tmp_path / "d.yaml",
        [channel, {"name": "quiet", "kind": "stdout"}],
        [
            {"name": "all", "channels": ["analysts"]},
            {"name": "none", "claims": [unmatched], "channels": ["quiet"]},
        ],
        overview={"path": str(overview), "days": 0},
    )
    with prefect_test_harness(server_startup_timeout=120):
        Secret(value=PASSWORD).save("claimwatch-smtp")
        flow = load_flow_from_entrypoint(f"{ROOT / 'flows' / 'digest.py'}:digest")
        summary = flow(config=str(config), db=str(db))
        with get_client(sync_client=True) as client:
            keys = ["claimwatch-digest", "claimwatch-overview", "claimwatch-overview-page"]
            artifacts = client.read_artifacts(
                artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=keys))
            )
        again = flow(config=str(config), db=str(db))
    assert summary.delivered == {"analysts": REAL_MATCHES}
    assert summary.failed == {} and summary.skipped == ["quiet"]
    assert again.delivered == {} and sorted(again.skipped) == ["analysts", "quiet"]
    assert len(inbox.messages) == 1 and inbox.logins == [("claimwatch", PASSWORD)]
    assert {a.key for a in artifacts} == set(keys)
    digest_md = next(a for a in artifacts if a.key == "claimwatch-digest")
    assert "Channel analysts: delivered" in str(digest_md.data)
    page = overview.read_text(encoding="utf-8")
    assert '<svg class="chart' in page and "&lt;script&gt;" in page


def test_three_syndicated_copies_are_one_story_listed_once(
    tmp_path: Path, catalog: Catalog
) -> None:
    db = tmp_path / "w.duckdb"
    copy = variants()
    copies = [
        article("nato-asia", "Polar Wire", 1, WIRE, title="NATO widens its Indo-Pacific ties"),
        article(
            "allies-look-east",
            "The Meridian Post",
            2,
            copy["other boilerplate"],
            title="Allies look east as Tokyo joins Baltic drills",
            source="meridian",
        ),
        article(
            "nato-pacific",
            "Eastern Star Daily",
            3,
            copy["6 words edited"],
            title="NATO and Pacific partners agree closer ties",
            source="star",
        ),
    ]
    store(db, catalog, "run-1", 10, copies, [match_in(a, UKRAINE, WIRE_QUOTE) for a in copies])
    config = load_digest_config(
        write_config(tmp_path / "d.yaml", [{"name": "terminal", "kind": "stdout"}])
    )
    (digest,) = prepare(db, WAREHOUSE / "reports", WAREHOUSE / "migrations", config)
    (group,) = digest.groups
    assert (digest.matches, group.articles, group.story_count) == (3, 3, 1)
    (story,) = group.stories
    assert story.lead.outlet == "Polar Wire"
    assert [c.outlet for c in story.also_in] == ["The Meridian Post", "Eastern Star Daily"]

    text = render_digest(digest, "text")
    assert "[ukraine-today-asia-tomorrow] 3 new articles in 1 story" in text
    assert text.count("NATO widens its Indo-Pacific ties") == 1
    assert "Allies look east" not in text and "closer ties" not in text
    assert (
        "also in: The Meridian Post (http://meridian.example/allies-look-east), "
        "Eastern Star Daily (http://star.example/nato-pacific)"
    ) in text
    markdown = render_digest(digest, "markdown")
    assert "· 3 new articles in 1 story" in markdown
    assert "also in: [The Meridian Post](http://meridian.example/allies-look-east)" in markdown
    html = render_digest(digest, "html")
    assert "3 new articles in 1 story" in html and "also in:" in html
    assert html.count("NATO widens its Indo-Pacific ties") == 1


def test_a_failed_run_names_each_failure_and_its_markdown_says_so(
    db: Path, tmp_path: Path, server: ScriptedServer
) -> None:
    """What the digest flow raises and publishes, from the library run the command also uses."""
    from claimwatch.delivery.run import failure_message, run_markdown

    url = server.add("/gone", Reply(404, b"no such hook"))
    config = load_digest_config(write_config(tmp_path / "gone.yaml", [webhook(url)]))
    run = run_digest(db, WAREHOUSE, config)
    assert run.delivered == {} and list(run.failures) == ["hook"]
    message = failure_message(run)
    assert message is not None
    assert message.startswith("1 of 1 deliveries failed (hook: http://127.0.0.1:")
    assert "HTTP 404 no such hook" in message
    assert message.endswith("their matches stay pending for the next run")
    assert "# Channel hook: failed: " in run_markdown(run)
    dry = run_digest(db, WAREHOUSE, config, dry_run=True)
    assert dry.deliveries == [] and "dry run: not sent" in run_markdown(dry, dry_run=True)
    assert [r[:3] for r in ledger(db)] == [("hook", "failed", REAL_MATCHES)]


def test_suggestions_to_review_follow_the_subscriptions(db: Path, tmp_path: Path) -> None:
    """A channel is reminded only of suggestions for the claims it follows."""
    out = {"name": "out", "kind": "stdout", "format": "text"}
    ukraine_only = write_config(
        tmp_path / "u.yaml", [out], [{"name": "u", "claims": [UKRAINE], "channels": ["out"]}]
    )
    war_too = write_config(
        tmp_path / "w.yaml", [out], [{"name": "w", "claims": [WAR, UKRAINE], "channels": ["out"]}]
    )
    quiet = digest_cli(ukraine_only, db, "--dry-run")
    reminded = digest_cli(war_too, db, "--dry-run")
    assert quiet.returncode == reminded.returncode == 0, quiet.stderr + reminded.stderr
    assert "To review" not in quiet.stdout
    assert "== To review: 1 suggestion (claimwatch review)" in reminded.stdout
