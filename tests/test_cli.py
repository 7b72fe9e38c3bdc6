"""The command line as users and scripts call it: real files; `run` in a real process."""

import json
import os
import re
import shutil
from pathlib import Path

import pytest
import yaml

from claimwatch.settings import load_settings
from claimwatch.store.connection import connect
from tests.commands import claimwatch, piped_environment
from tests.conftest import ROOT, SEEDS, write_sources
from tests.test_user_files import state_of


def _digest(db: Path) -> object:
    """What any write to the warehouse changes (its newest snapshot and data files)."""
    return state_of(db)


@pytest.fixture(scope="module")
def warehouse(sample_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A warehouse filled by `claimwatch run` over the sample (the contract's command)."""
    tmp = tmp_path_factory.mktemp("cli")
    sources = write_sources(tmp / "sources.yaml", ("sample", sample_url + "feed.xml"), sample=True)
    db = tmp / "w"
    result = claimwatch(
        "run", "--sources", str(sources), "--claims", str(SEEDS / "claims.yaml"), "--db", str(db)
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "New matches (" in result.stdout
    assert "where-nato-goes-war-is-most-likely" in result.stdout
    # The pass's workers suggest restatements for review, and say so.
    assert re.search(r"^\d+ new suggestions to review: claimwatch review$", result.stdout, re.M)
    return db


def test_run_fills_claim_matches(warehouse: Path) -> None:
    with connect(warehouse, read_only=True) as con:
        rows = con.execute(
            "SELECT claim_id, article_url, score, matched_text, snippet FROM claim_matches"
        ).fetchall()
    assert len(rows) >= 10
    assert all(0 <= r[2] <= 100 and r[3] and r[3] in r[4] for r in rows)


@pytest.mark.parametrize("which", ["claims", "sources"])
def test_bad_file_gives_one_line_per_problem_and_changes_nothing(
    which: str, warehouse: Path, sample_url: str, tmp_path: Path
) -> None:
    sources = write_sources(tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"))
    claims = tmp_path / "claims.yaml"
    claims.write_text((SEEDS / "claims.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    broken = claims if which == "claims" else sources
    broken.write_text(
        broken.read_text(encoding="utf-8").replace("url:", "ur1:", 1).replace("text:", "txet:", 1),
        encoding="utf-8",
    )
    before = _digest(warehouse)
    result = claimwatch(
        "run", "--sources", str(sources), "--claims", str(claims), "--db", str(warehouse)
    )
    assert result.returncode != 0
    # Every problem of the file, one line each, each naming the file.
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith(f"Error: {broken}"), result.stderr
    assert all(line.startswith(str(broken)) for line in lines[1:]), result.stderr
    if which == "claims":
        assert len(lines) == 2 and "'text'" in lines[0] and "'txet'" in lines[1], result.stderr
    assert "Traceback" not in result.stderr
    assert _digest(warehouse) == before


def test_match_reads_and_writes_json_lines() -> None:
    texts = [
        {"id": "a", "text": "Beijing's paper wrote: “Where NATO goes, war is most likely.”"},
        {"id": "b", "text": "Defence ministers discussed ammunition in Brussels."},
        {"id": "c", "title": "Ukraine Today, Asia Tomorrow", "text": "A speech in Tokyo."},
    ]
    result = claimwatch("match", stdin="\n".join(json.dumps(t) for t in texts))
    assert result.returncode == 0, result.stderr
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["claim_id"]) for o in out] == [
        ("a", "where-nato-goes-war-is-most-likely"),
        ("c", "ukraine-today-asia-tomorrow"),
    ]
    first = out[0]
    assert texts[0]["text"][first["start"] : first["end"]] == first["matched_text"]
    assert set(first) >= {"id", "claim_id", "score", "matched_text", "start", "end"}
    assert out[1]["field"] == "title"


def test_match_top_k_ranks_every_input() -> None:
    text = json.dumps({"id": 7, "text": "Defence ministers discussed ammunition."})
    result = claimwatch("match", "--top", "3", stdin=text + "\n")
    out = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(out) == 3 and {o["id"] for o in out} == {7}
    assert [o["score"] for o in out] == sorted((o["score"] for o in out), reverse=True)


def test_match_top_k_fuses_meaning_unless_the_encoder_is_off() -> None:
    line = json.dumps({"id": "q", "text": "Ukraine today could be East Asia tomorrow."}) + "\n"
    with_encoder = [
        json.loads(x) for x in claimwatch("match", "--top", "2", stdin=line).stdout.splitlines()
    ]
    env = dict(os.environ, CLAIMWATCH_ENCODER="none")
    lexical = [
        json.loads(x)
        for x in claimwatch("match", "--top", "2", stdin=line, env=env).stdout.splitlines()
    ]
    assert with_encoder[0]["claim_id"] == lexical[0]["claim_id"] == "ukraine-today-asia-tomorrow"
    assert {"meaning", "words", "chars"} <= set(with_encoder[0]["parts"])
    assert "meaning" not in lexical[0]["parts"] and {"words", "chars"} <= set(lexical[0]["parts"])
    bad = claimwatch(
        "match", "--top", "1", stdin=line, env=dict(os.environ, CLAIMWATCH_ENCODER="bert")
    )
    assert bad.returncode == 1 and "CLAIMWATCH_ENCODER='bert'" in bad.stderr
    assert "'use' or 'none'" in bad.stderr


def test_match_bad_line_names_it() -> None:
    result = claimwatch("match", stdin='{"id": 1, "text": "ok"}\n{not json}\n')
    assert result.returncode != 0
    assert (
        result.stderr.strip()
        == "Error: stdin line 2: invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_report_latest_matches_formats(warehouse: Path) -> None:
    table = claimwatch("report", "latest-matches", "-p", "limit", "3", "--db", str(warehouse))
    assert table.returncode == 0, table.stderr
    assert table.stdout.splitlines()[0].split()[:2] == ["claim_id", "outlet"]
    assert len(table.stdout.splitlines()) == 2 + 3
    as_json = claimwatch("report", "latest-matches", "--format", "json", "--db", str(warehouse))
    records = json.loads(as_json.stdout)
    assert records and {"claim_id", "score", "matched_text", "article_url"} <= set(records[0])
    as_csv = claimwatch("report", "matches-per-claim", "--format", "csv", "--db", str(warehouse))
    header, *rows = as_csv.stdout.splitlines()
    assert header.startswith("claim_id,claim_text,articles,outlets")
    assert len(rows) >= 18


def test_report_excludes_sample_on_request(warehouse: Path) -> None:
    result = claimwatch(
        "report",
        "latest-matches",
        "-p",
        "include_sample",
        "false",
        "--format",
        "json",
        "--db",
        str(warehouse),
    )
    assert json.loads(result.stdout) == []


def test_report_list_as_json() -> None:
    result = claimwatch("report", "--list", "--format", "json")
    listing = {r["name"]: r for r in json.loads(result.stdout)}
    assert {"latest-matches", "matches-per-claim", "runs", "failures"} <= set(listing)
    limit = next(p for p in listing["latest-matches"]["parameters"] if p["name"] == "limit")
    assert limit == {"name": "limit", "type": "integer", "default": 20}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("report", "nope"), "Error: no report named 'nope'"),
        (
            ("report", "latest-matches", "-p", "limit", "many"),
            "Error: parameter 'limit' expects integer, got 'many'",
        ),
        (
            ("report", "latest-matches", "-p", "colour", "red"),
            "Error: report 'latest-matches' has no parameter 'colour'",
        ),
    ],
)
def test_report_errors_are_one_line(warehouse: Path, args: tuple, message: str) -> None:
    result = claimwatch(*args, "--db", str(warehouse))
    assert result.returncode != 0
    assert result.stderr.strip().startswith(message)
    assert len(result.stderr.strip().splitlines()) == 1


def test_report_without_warehouse(tmp_path: Path) -> None:
    result = claimwatch("report", "runs", "--db", str(tmp_path / "none.duckdb"))
    assert result.returncode != 0
    assert "no warehouse here yet; run `claimwatch run` first" in result.stderr


def test_claims_validate_and_list() -> None:
    ok = claimwatch("claims", "validate")
    assert ok.returncode == 0 and ": OK: " in ok.stdout
    listing = claimwatch("claims", "list", "--format", "json")
    ids = [c["id"] for c in json.loads(listing.stdout)]
    assert "ukraine-today-asia-tomorrow" in ids and len(ids) == len(set(ids))


def test_eval_prints_tiers_misses_sweep_and_ranking() -> None:
    result = claimwatch("eval", "--show", "3")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    lines = (ROOT / "tests" / "data" / "devset.jsonl").read_text(encoding="utf-8").splitlines()
    assert f"{len(lines)} judgements" in out
    exact = next(line for line in out.splitlines() if line.startswith("exact "))
    assert exact.split()[-1] == "1.000"
    assert "Misses (" in out and "False hits (" in out and "Threshold sweep" in out
    ranking = out[out.index("Ranking mode") :].splitlines()
    near = next(line for line in ranking if line.startswith("near "))
    assert near.split()[2:] == ["1.000", "1.000", "1.000"]  # first, top 5, MRR
    # The labelled articles, by language: a row each, the language first.
    by_language = out[out.index("By language") :].splitlines()
    assert {line.split()[0] for line in by_language[3:11]} == {
        "de",
        "en",
        "es",
        "fr",
        "it",
        "ja",
        "ru",
        "zh",
    }


def test_a_second_run_says_the_source_is_unchanged(
    warehouse: Path, sample_url: str, tmp_path: Path
) -> None:
    db = tmp_path / "copy"
    shutil.copytree(warehouse, db)
    sources = write_sources(
        tmp_path / "sources.yaml", ("sample", sample_url + "feed.xml"), sample=True
    )
    result = claimwatch("run", "--sources", str(sources), "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Pass completed: 1 sources (0 not due, 1 unchanged), 0 links," in result.stdout


def test_rematch_finds_a_new_claim_in_stored_articles(warehouse: Path, tmp_path: Path) -> None:
    db = tmp_path / "copy"
    shutil.copytree(warehouse, db)
    with connect(db, read_only=True) as con:
        url, text = con.execute("SELECT url, text FROM articles ORDER BY url LIMIT 1").fetchone()
    sentence = next(s for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) >= 8)
    catalog = yaml.safe_load((SEEDS / "claims.yaml").read_text(encoding="utf-8"))
    catalog["claims"].append({"id": "added-later", "text": sentence.rstrip(".!?")})
    claims = tmp_path / "claims.yaml"
    claims.write_text(yaml.safe_dump(catalog, allow_unicode=True), encoding="utf-8")
    result = claimwatch("rematch", "--claims", str(claims), "--db", str(db))
    assert result.returncode == 0, result.stderr[-3000:]
    found = re.search(
        r"Re-matched the stored articles: (\d+) new matches, \d+ new suggestions", result.stdout
    )
    assert found and int(found.group(1)) >= 1, result.stdout
    with connect(db, read_only=True) as con:
        urls = {
            r[0]
            for r in con.execute(
                "SELECT article_url FROM claim_matches WHERE claim_id = 'added-later'"
            ).fetchall()
        }
    assert url in urls
    missing = claimwatch("rematch", "--db", str(tmp_path / "none.duckdb"))
    assert missing.returncode == 1 and "none.duckdb: no warehouse here" in missing.stderr
    unknown = claimwatch("rematch", "--claims", str(claims), "--db", str(db), "--claim", "nope")
    assert unknown.returncode == 1
    assert "no claim 'nope' in the catalog: see `claimwatch claims list`" in unknown.stderr
    focused = claimwatch(
        "rematch", "--claims", str(claims), "--db", str(db), "--claim", "added-later"
    )
    assert focused.returncode == 0, focused.stderr[-3000:]
    assert "Re-matched the stored articles: 0 new matches" in focused.stdout


def test_a_variable_set_empty_counts_as_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`CLAIMWATCH_DB=` (a compose file's `${CLAIMWATCH_DB:-}`) is not the current folder."""
    monkeypatch.chdir(tmp_path)
    empty = {"CLAIMWATCH_DB": "", "CLAIMWATCH_CACHE_DIR": "", "CLAIMWATCH_ALLOW_PRIVATE_HOSTS": ""}
    result = claimwatch("sql", "SELECT 1", env=piped_environment() | empty)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Error: warehouse/lake: no warehouse here yet; run `claimwatch run` first"
    )
    for name in empty:
        monkeypatch.delenv(name, raising=False)
    unset = load_settings()
    for name, value in empty.items():
        monkeypatch.setenv(name, value)
    assert load_settings() == unset
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("CLAIMWATCH_FETCH__RETRIES", "lots", "Input should be a valid integer"),
        ("CLAIMWATCH_ALLOW_PRIVATE_HOSTS", "maybe", "Input should be a valid boolean"),
        ("CLAIMWATCH_TIMEZONE", "Mars/Base", "unknown time zone 'Mars/Base' (use an IANA name)"),
    ],
)
def test_a_bad_variable_is_named_with_its_value(variable: str, value: str, problem: str) -> None:
    result = claimwatch("sql", "SELECT 1", env=piped_environment() | {variable: value})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"Error: bad setting in the environment: {variable}={value!r}: ")
    assert problem in lines[0]
