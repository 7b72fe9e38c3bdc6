"""The digest ledger counts deliveries by where a channel delivers, not by its name:
two digest files with a channel called `archive` each fill their own folder."""

from __future__ import annotations

import re
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from claimwatch.delivery.config import load_digest_config
from claimwatch.delivery.destinations import destination_key
from claimwatch.matching.catalog import Catalog
from claimwatch.store.connection import connect
from tests.conftest import MIGRATIONS
from tests.test_digest import REAL_MATCHES, digest_cli, write_config
from tests.warehouses import populated_warehouse


@pytest.fixture
def db(tmp_path: Path, catalog: Catalog) -> Path:
    return populated_warehouse(tmp_path / "w.duckdb", catalog)


def archive(config: Path, folder: Path, name: str = "archive") -> Path:
    channel = {"name": name, "kind": "directory", "path": str(folder), "format": "markdown"}
    return write_config(config, [channel])


def digests_in(folder: Path) -> list[str]:
    return sorted(p.read_text(encoding="utf-8") for p in folder.glob("digest-*.md"))


def ledger(db: Path) -> list[tuple[str, str | None, str, int]]:
    with connect(db, read_only=True) as con:
        return con.execute(
            "SELECT channel, destination_key, status, matches FROM digests ORDER BY finished_at"
        ).fetchall()


def test_two_files_with_an_archive_channel_each_deliver_to_their_folder(
    db: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "first", tmp_path / "second"
    config_a = archive(tmp_path / "a.yaml", first)
    config_b = archive(tmp_path / "b.yaml", second)

    sent_a = digest_cli(config_a, db)
    assert sent_a.returncode == 0, sent_a.stderr
    assert f"archive: delivered {REAL_MATCHES} matches" in sent_a.stderr
    sent_b = digest_cli(config_b, db)
    assert sent_b.returncode == 0, sent_b.stderr
    assert f"archive: delivered {REAL_MATCHES} matches" in sent_b.stderr, sent_b.stderr
    assert len(digests_in(first)) == len(digests_in(second)) == 1
    # The same digest, but for the folder named and the minute each was made.
    made = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert made.sub("TIME", digests_in(first)[0]) == made.sub(
        "TIME", digests_in(second)[0].replace(str(second), str(first))
    )

    # Each folder has had everything: neither gets it again.
    for config in (config_a, config_b):
        again = digest_cli(config, db)
        assert "archive: nothing new, nothing sent" in again.stderr
    assert len(digests_in(first)) == len(digests_in(second)) == 1
    assert ledger(db) == [
        ("archive", f"directory {first.resolve()}", "delivered", REAL_MATCHES),
        ("archive", f"directory {second.resolve()}", "delivered", REAL_MATCHES),
    ]


def test_one_folder_under_two_names_gets_each_match_once(db: Path, tmp_path: Path) -> None:
    folder = tmp_path / "out"
    assert digest_cli(archive(tmp_path / "a.yaml", folder), db).returncode == 0
    # Another file, another name, the same folder spelled another way.
    other = archive(tmp_path / "b.yaml", tmp_path / "x" / ".." / "out", name="shelf")
    again = digest_cli(other, db)
    assert again.returncode == 0, again.stderr
    assert "shelf: nothing new, nothing sent" in again.stderr
    assert len(digests_in(folder)) == 1


def test_keys_name_the_place_and_never_a_webhook_secret(tmp_path: Path) -> None:
    secret = "https://hooks.example.org/services/T000/B000/s3cr3t-t0ken"
    config = load_digest_config(
        write_config(
            tmp_path / "d.yaml",
            [
                {
                    "name": "a",
                    "kind": "smtp",
                    "host": "Mail.Example.org",
                    "from": "cw@x.org",
                    "to": ["b@x.org", "A@x.org"],
                },
                {
                    "name": "b",
                    "kind": "smtp",
                    "host": "mail.example.org",
                    "from": "cw@x.org",
                    "to": ["a@x.org", "b@x.org"],
                },
                {
                    "name": "c",
                    "kind": "smtp",
                    "host": "mail.example.org",
                    "from": "cw@x.org",
                    "to": ["a@x.org"],
                },
                {"name": "d", "kind": "webhook", "url": secret},
                {"name": "e", "kind": "webhook", "url": secret.replace("t0ken", "other")},
                {"name": "f", "kind": "stdout"},
            ],
        )
    )
    keys = [destination_key(c) for c in config.channels]
    assert keys[0] == keys[1] == "smtp://mail.example.org:587 to a@x.org, b@x.org"
    assert keys[2] != keys[0]
    assert keys[3] != keys[4] and keys[3].startswith("webhook https://hooks.example.org/… ")
    assert not any("s3cr3t" in k or "services" in k for k in keys)
    assert keys[5] == "stdout"


def old_migrations(tmp_path: Path) -> Path:
    """The migrations without the one that keyed the ledger by destination (007); the later
    ones stay, since today's writers that fill the warehouse need their tables."""
    folder = tmp_path / "old" / "migrations"
    folder.mkdir(parents=True)
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if not path.name.startswith("007_"):
            shutil.copy(path, folder / path.name)
    return folder


def test_a_ledger_from_before_keeps_its_history_with_its_destination(
    tmp_path: Path, catalog: Catalog
) -> None:
    """Rows written by name (before migration 007) stay with the folder they went to: that
    folder gets nothing again, another folder of the same channel name gets everything."""
    db = populated_warehouse(tmp_path / "w.duckdb", catalog, migrations=old_migrations(tmp_path))
    first, second = tmp_path / "first", tmp_path / "second"
    at = datetime(2026, 12, 1, 8, 0)
    with connect(db) as con:
        matches = con.execute(
            "SELECT article_url, claim_id, score FROM claim_matches WHERE NOT is_sample"
        ).fetchall()
        con.execute(  # as the ledger recorded a delivery to `first` then
            "INSERT INTO digests VALUES ('att-1', 'dig-1', 'archive', 'directory', ?, "
            "'delivered', 'written', ?, 2, NULL, NULL, NULL, 1, ?, ?)",
            [str(first), len(matches), at, at],
        )
        con.executemany("INSERT INTO digest_items VALUES ('att-1', 'archive', ?, ?, ?)", matches)
    config_a = archive(tmp_path / "a.yaml", first)
    dry = digest_cli(config_a, db, "--dry-run")
    assert dry.returncode == 1
    assert dry.stderr.strip() == (
        f"Error: {db}: the digest ledger predates this claimwatch; run `claimwatch digest` "
        "without --dry-run (or `claimwatch run`) once to upgrade it"
    )

    again = digest_cli(config_a, db)
    assert again.returncode == 0, again.stderr
    assert "archive: nothing new, nothing sent" in again.stderr
    assert not first.exists()
    elsewhere = digest_cli(archive(tmp_path / "b.yaml", second), db)
    assert f"archive: delivered {REAL_MATCHES} matches" in elsewhere.stderr, elsewhere.stderr
    assert [row[:2] for row in ledger(db)] == [
        ("archive", f"directory {first.resolve()}"),
        ("archive", f"directory {second.resolve()}"),
    ]
