"""The docs document what users call and show what it does: every command with all its
options (a generated reference kept current), every setting, every report; SQL examples
that run, and show rows on the demo; a site that builds with no warning."""

from __future__ import annotations

import importlib.util
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import click
import duckdb
import pytest
from pydantic import BaseModel

from claimwatch.cli import cli
from claimwatch.cli.reference import page, walk
from claimwatch.matching.catalog import Catalog
from claimwatch.settings import Settings
from claimwatch.store.connection import connect, write
from claimwatch.store.reports import run_sql
from tests.conftest import ROOT
from tests.warehouses import empty_warehouse, populated_warehouse

DOCS = ROOT / "docs"
CLI_PAGE = DOCS / "reference" / "cli.md"
REGENERATE = "python -m claimwatch.cli.reference > docs/reference/cli.md"
REPORTS = sorted(p.stem for p in (ROOT / "warehouse" / "reports").glob("*.sql"))
# Blocks after this comment need more than the offline sample holds (fact-checks, stories
# across outlets, reviews): they must run, but may return nothing on the demo.
NOT_ON_DEMO = "<!-- not on the demo"
SQL_BLOCK = re.compile(r"^(<!-- not on the demo[^\n]*\n)?```sql\n(.*?)^```", re.M | re.S)
SQL_COMMAND = re.compile(r"^\$ (claimwatch sql .+)$", re.M)
# The claim views: on a warehouse of sample rows, an example reading them should show rows.
CLAIM_VIEWS = re.compile(
    r"\b(claim_matches|claim_first_seen|claim_outlets|claim_stories|claim_suggestions|"
    r"daily_mentions)\b"
)


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# -- the command-line reference ---------------------------------------------------------


def sections(markdown: str) -> dict[str, str]:
    """The reference page's sections by heading: `## claimwatch run` -> its text."""
    parts = re.split(r"^## (claimwatch[^\n]*)\n", markdown, flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def commands() -> Iterator[tuple[str, click.Command]]:
    for command, ctx in walk(cli, click.Context(cli, info_name="claimwatch")):
        yield ctx.command_path, command


def spellings(command: click.Command) -> list[list[str]]:
    """Each option's spellings (`-p`, `--param`): the reference must show all of them."""
    return [p.opts for p in command.params if isinstance(p, click.Option)]


COMMANDS = dict(commands())


def test_the_cli_reference_is_what_the_commands_give_now() -> None:
    assert text(CLI_PAGE) == page(cli), f"docs/reference/cli.md is out of date: run `{REGENERATE}`"


def test_the_command_walk_sees_groups_and_subcommands() -> None:
    assert {"claimwatch", "claimwatch run", "claimwatch review", "claimwatch claims list"} <= set(
        COMMANDS
    )


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_each_command_has_a_section_with_every_option(path: str) -> None:
    section = sections(text(CLI_PAGE)).get(path)
    assert section is not None, f"docs/reference/cli.md: no section for {path}: `{REGENERATE}`"
    missing = [
        o
        for opts in spellings(COMMANDS[path])
        for o in opts
        if not re.search(rf"^- `(.*, )?{re.escape(o)}(?![\w-])", section, flags=re.M)
    ]
    assert missing == [], f"docs/reference/cli.md: {path} lacks {missing}: `{REGENERATE}`"


def test_a_new_option_changes_the_page() -> None:
    """The equality test can fail: an option added to a command changes what is generated."""

    @click.group()
    def tool() -> None:
        """A tool."""

    @tool.command()
    @click.option("--sources", help="Sources file.")
    def run(sources: str | None) -> None:
        """Run it.

        Example:

            tool run --sources a.yaml
        """

    before = page(tool, "tool")
    assert "## tool run" in before and "- `--sources TEXT`: Sources file." in before
    assert "```sh\ntool run --sources a.yaml\n```" in before
    click.option("--top", type=int, help="How many.")(run)
    after = page(tool, "tool")
    assert after != before and "`--top INTEGER`: How many." in after


def test_help_text_is_escaped_outside_code() -> None:
    @click.command()
    def tool() -> None:
        """Reads <file> and *stars*, keeps `a <b> *c*` as code."""

    out = page(click.Group(commands={"tool": tool}), "x")
    assert "Reads &lt;file&gt; and \\*stars\\*, keeps `a <b> *c*` as code." in out


# -- settings and reports ---------------------------------------------------------------


def setting_names(model: type[BaseModel], prefix: str = "CLAIMWATCH_") -> Iterator[str]:
    for name, field in model.model_fields.items():
        kind = field.annotation
        if isinstance(kind, type) and issubclass(kind, BaseModel):
            yield from setting_names(kind, f"{prefix}{name.upper()}__")
        else:
            yield prefix + name.upper()


SETTINGS = sorted(setting_names(Settings))


def test_the_settings_walk_sees_nested_settings() -> None:
    assert {"CLAIMWATCH_DB", "CLAIMWATCH_FETCH__MAX_PER_HOST"} <= set(SETTINGS)
    assert "CLAIMWATCH_WORKERS__PROCESSES" in SETTINGS


@pytest.mark.parametrize("name", SETTINGS)
def test_each_setting_is_in_the_configuration_reference(name: str) -> None:
    reference = text(DOCS / "reference" / "configuration.md")
    assert f"`{name}`" in reference, f"docs/reference/configuration.md: no `{name}`"


@pytest.mark.parametrize("name", REPORTS)
def test_each_report_is_listed(name: str) -> None:
    guide = text(DOCS / "guide" / "reports.md")
    listing = guide[guide.index("$ claimwatch report --list") :].split("```", 1)[0]
    assert re.search(rf"^{re.escape(name)}\s", listing, flags=re.M), (
        f"docs/guide/reports.md: report {name} is not in the `claimwatch report --list` output"
    )


# -- SQL examples -----------------------------------------------------------------------


def sql_examples() -> Iterator[tuple[str, str, dict[str, str], bool]]:
    """(where, statement, parameters, shown on the demo) for every SQL example of the docs:
    statements of ```sql blocks, and queries of `$ claimwatch sql` command lines."""
    for path in pages():
        doc = text(path)
        where = str(path.relative_to(ROOT))
        for block in SQL_BLOCK.finditer(doc):
            on_demo = block.group(1) is None
            for statement in re.split(r";\s*$", block.group(2), flags=re.M):
                lines = [line for line in statement.splitlines() if not line.startswith("-- ")]
                if "".join(lines).strip():
                    params = dict.fromkeys(re.findall(r"\$(\w+)", statement), UKRAINE)
                    yield where, "\n".join(lines), params, on_demo
        for line in SQL_COMMAND.finditer(doc):
            args = shlex.split(line.group(1), comments=True)[2:]
            query, rest = args[0], args[1:]
            params = {
                rest[i + 1]: rest[i + 2] for i, a in enumerate(rest) if a in ("-p", "--param")
            }
            yield where, query, params, True


UKRAINE = "ukraine-today-asia-tomorrow"
EXAMPLES = list(sql_examples())


@pytest.fixture(scope="module")
def populated(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    return populated_warehouse(tmp_path_factory.mktemp("docs") / "w", catalog)


@pytest.fixture(scope="module")
def demo(populated: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The same rows, all of them the offline sample's, as on a first `make run`."""
    db = tmp_path_factory.mktemp("demo") / "demo"
    shutil.copytree(populated, db)

    def all_sample(con: duckdb.DuckDBPyConnection) -> None:
        con.execute("UPDATE articles SET is_sample = true")
        con.execute("UPDATE sources SET is_sample = true")

    write(db, f"{db}: not updated", all_sample)
    return db


def test_the_examples_include_both_kinds() -> None:
    where = {w for w, *_ in EXAMPLES}
    assert {"README.md", "docs/guide/reports.md"} <= where
    assert any(on_demo for *_, on_demo in EXAMPLES)
    assert any(not on_demo for *_, on_demo in EXAMPLES)


def example_id(where: str, sql: str) -> str:
    """The page and the first words of the query: README.md:SELECT outlet, count(*) AS..."""
    return f"{where}:{' '.join(sql.split())[:40]}"


def test_the_warehouse_guides_python_session_reads_the_views(
    populated: Path, tmp_path: Path
) -> None:
    """The guide's Python example, as an analyst pastes it into a notebook beside the
    warehouse (its path pointed at a populated one), prints the matches per outlet."""
    guide = text(ROOT / "docs" / "guide" / "warehouse.md")
    found = re.search(r"^```python\n(.*?)^```", guide, re.M | re.S)
    assert found, "docs/guide/warehouse.md has no python example"
    code = found.group(1).replace("warehouse/lake/", f"{populated}/")
    assert str(populated) in code
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "outlet" in done.stdout and "matches" in done.stdout
    with connect(populated, read_only=True) as con:
        (outlet,) = con.execute("SELECT outlet FROM claim_matches LIMIT 1").fetchone()
    assert outlet in done.stdout


@pytest.mark.parametrize(
    ("where", "sql", "params", "on_demo"), EXAMPLES, ids=[example_id(w, s) for w, s, *_ in EXAMPLES]
)
def test_each_sql_example_runs(
    where: str, sql: str, params: dict[str, str], on_demo: bool, populated: Path
) -> None:
    if sql.startswith("DELETE"):  # shown failing on purpose: the warehouse is read-only
        with pytest.raises(Exception, match="read-only"):
            run_sql(populated, sql, params)
        return
    run_sql(populated, sql, params)


@pytest.mark.parametrize(
    ("where", "sql", "params"),
    [
        pytest.param(w, s, p, id=example_id(w, s))
        for w, s, p, on_demo in EXAMPLES
        if on_demo and CLAIM_VIEWS.search(s) and "now()" not in s
    ],
)
def test_claim_examples_show_rows_on_the_demo(
    where: str, sql: str, params: dict[str, str], demo: Path
) -> None:
    """On a warehouse of sample rows (a first `make run`), the examples over the claim views
    show something: a `NOT is_sample` filter in them left newcomers with no rows."""
    assert run_sql(demo, sql, params).rows, f"{where}: no rows on the demo from {sql!r}"


def test_not_is_sample_is_shown_leaving_nothing_on_the_demo(demo: Path) -> None:
    shown = [s for _, s, _, on_demo in EXAMPLES if on_demo and "NOT is_sample" in s]
    assert shown, "the docs show what `NOT is_sample` does on the demo"
    assert all(run_sql(demo, s).rows in ([], [(0,)]) for s in shown)


# -- the site and the README -----------------------------------------------------------


def test_the_site_builds_with_no_warning(tmp_path: Path) -> None:
    """mkdocs --strict: a broken link or anchor, or a page left out of the navigation, fails;
    and no page loads a script or a style sheet from the network."""
    build = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, build.stdout + build.stderr
    assert (tmp_path / "reference" / "cli" / "index.html").is_file()
    # Like the HTML report, the site loads nothing from the network (offline readers).
    remote = {
        f"{page.relative_to(tmp_path)}: {found}"
        for page in tmp_path.rglob("*.html")
        for found in re.findall(r"<(?:script|link)[^>]+(?:src|href)=\"https?://[^\"]+", text(page))
    }
    assert remote == set()


def readme_links() -> list[str]:
    targets = re.findall(r"\]\(([^)\s]+)\)", text(ROOT / "README.md"))
    return [t for t in targets if not re.match(r"[a-z]+:", t)]


def test_the_readme_links_into_the_docs() -> None:
    links = readme_links()
    assert "docs/overview.png" in links and "docs/reference/cli.md" in links
    missing = [t for t in links if not (ROOT / t.split("#", 1)[0]).exists()]
    assert missing == [], f"README.md links to missing files: {missing}"


def test_the_readme_is_short_and_names_the_two_commands() -> None:
    readme = text(ROOT / "README.md")
    assert "make run" in readme and "make test" in readme
    assert len(readme.split()) <= 1600, "README.md is for a ten-minute read: move details to docs/"


# -- docs/examples.py, which reruns the console examples ---------------------------------


def load_examples_tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("docs_examples", DOCS / "examples.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_examples_tool_writes_what_commands_print_now(tmp_path: Path) -> None:
    tool = load_examples_tool()
    quote = "A state newspaper wrote: “Where NATO goes, war is most likely.”"
    command = f"""echo '{{"id": "a1", "text": "{quote}"}}' | claimwatch match    # a note"""
    page = tmp_path / "page.md"
    page.write_text(
        f"Text.\n\n```console\n$ {command}\nstale output\n```\n\n"
        "```console\n$ make run\nleft alone\n```\n\n"
        "<!-- examples: keep -->\n```console\n$ claimwatch claims validate\nkept\n```\n",
        encoding="utf-8",
    )
    warehouse = empty_warehouse(tmp_path / "w")
    assert tool.main([str(warehouse), str(page)], folder=tmp_path / "scratch") == 0
    text = page.read_text(encoding="utf-8")
    assert "stale output" not in text and '"claim_id": "where-nato-goes-war-is-most-likely"' in text
    assert "$ make run\nleft alone\n" in text and "$ claimwatch claims validate\nkept\n" in text
    assert not tool.runnable("export PREFECT_API_URL=x") and tool.runnable("X=1 claimwatch sql q")
