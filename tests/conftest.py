from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from tests.processes import shared_cache_dir

# Prefect reads these when it is first imported; an offline machine must not send telemetry.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ["CLAIMWATCH_ALLOW_PRIVATE_HOSTS"] = "1"
# Local servers need no politeness delay; tests of the delay set it on their FetchConfig.
os.environ["CLAIMWATCH_FETCH__HOST_DELAY"] = "0"

# One cache of built models and embedded catalogs for the whole run, never the user's own.
os.environ["CLAIMWATCH_CACHE_DIR"] = shared_cache_dir()

import pytest
from hypothesis import Phase, settings

from claimwatch.matching.catalog import Catalog, load_catalog
from claimwatch.sample_server import serve_directory
from tests.browser import browser, page  # noqa: F401 (fixtures)
from tests.httpserver import Reply, ScriptedServer, scripted_server
from tests.postgres import postgres_catalog, postgres_server  # noqa: F401 (fixtures)
from tests.scheduling import CrashSafeGroupScheduling

# A failing property test reports its shrunk example without Hypothesis's explain phase,
# which re-ran the test under a line tracer: one failure took over 15 minutes of the run.
settings.register_profile("claimwatch", phases=[p for p in Phase if p is not Phase.explain])
settings.load_profile("claimwatch")

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
SAMPLE = SEEDS / "sample"
MIGRATIONS = ROOT / "warehouse" / "migrations"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(SEEDS / "claims.yaml")


@pytest.fixture(scope="session")
def sample_url() -> Iterator[str]:
    """The offline sample served over real HTTP on 127.0.0.1."""
    with serve_directory(SAMPLE) as base_url:
        yield base_url


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with scripted_server() as state:
        yield state


def serve_sample_slowly(server: ScriptedServer, delay: float) -> str:
    """The sample on `server`, each page answered after `delay` s; the feed's URL."""
    for saved in (SAMPLE / "articles").glob("*.html"):
        reply = Reply(body=saved.read_bytes(), headers={"Content-Type": "text/html"}, delay=delay)
        server.add(f"/articles/{saved.name}", reply)
    feed = (SAMPLE / "feed.xml").read_bytes()
    server.add("/feed.xml", Reply(body=feed, headers={"Content-Type": "application/rss+xml"}))
    return server.url("/feed.xml")


def write_sources(path: Path, *feeds: tuple[str, str], sample: bool = False) -> Path:
    """A sources file with one feed per (name, url)."""
    lines = ["sources:"]
    for name, url in feeds:
        lines += [f"  - name: {name}", f"    url: {url}", "    allow_private: true"]
        lines += ["    sample: true"] if sample else []
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def prefect_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, object]]:
    """A real `prefect server` for the whole session: (API URL, its process)."""
    from tests.processes import prefect_server_running

    with prefect_server_running(tmp_path_factory.mktemp("prefect-server")) as running:
        yield running


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Prefect's test harness (a temporary API server and database), started once per
    process: the modules that run flows in this process share it instead of each
    starting its own (about 10 s of CPU apiece)."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=120):
        yield


# The suite runs in parallel (pytest-xdist, `--dist loadgroup`, see pyproject.toml). The
# longest modules, as measured, start first, so that none of them begins last and keeps
# one core working alone at the end; the slow-marked tests follow, then the rest.
HEAVIEST = (
    # Not long, but first, on workers that have run nothing yet: twice in a full run (CI,
    # and a fresh clone of 501deb6) a worker that had run hundreds of tests died of an
    # abort inside DuckLake during this module's maintenance (merge_adjacent_files, then
    # flush_inlined_data), never when the module ran without the rest (3 runs; its
    # time-travel test 46 times in one process). Production runs maintenance in a process
    # of its own (the CLI, or Prefect's flow-run process). Cause not found.
    "test_maintenance.py",
    "test_stress.py",
    "test_crash.py",
    "test_supervise.py",
    "test_serve.py",
    "test_unwritable_warehouse.py",
    "test_workers.py",
    "test_install.py",
)
HARNESS_GROUP = "prefect-harness"
# Fixtures whose start-up alone makes a test slow (real servers in their own processes).
SERVER_FIXTURES = {"prefect_harness", "prefect_server"}
# Tests measured at 10 s or more (most run a pass in processes of its own), left out of the
# fast subset (`-m "not slow"`, make test-fast) with the slow-marked ones: a node id, or a
# module and a fixture of its own that its tests share.
SLOW_TESTS = {
    "tests/test_workers.py::test_a_pass_records_crashed_and_hung_pages_and_exits_0",
    "tests/test_workers.py::test_each_fault_costs_its_page_and_is_named",
    "tests/test_cli.py::test_rematch_finds_a_new_claim_in_stored_articles",
    "tests/test_cli.py::test_a_second_run_says_the_source_is_unchanged",
    "tests/test_cli.py::test_a_second_pass_beside_a_running_one_stops_with_one_line",
    "tests/test_digest.py::test_digest_flow_delivers_writes_the_overview_and_publishes_artifacts",
    "tests/test_sample_port.py::test_a_pass_over_the_sample_when_8765_is_taken",
    "tests/test_hostile.py::test_extraction_memory_stays_bounded",
    "tests/test_catalog_tables.py::test_a_yaml_catalog_too_large_says_to_use_a_table",
}
SLOW_FIXTURES = {("tests/test_cli.py", "warehouse"), ("tests/test_corpora.py", "corpus_server")}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`--dist loadgroup` that survives a crashed worker (tests/scheduling.py)."""
    if config.getvalue("dist") == "loadgroup":
        return CrashSafeGroupScheduling(config, log)  # type: ignore[arg-type]
    return None


def _rank(item: pytest.Item) -> int:
    name = item.path.name
    if name in HEAVIEST:
        return HEAVIEST.index(name)
    if HARNESS_GROUP in _groups(item):
        return len(HEAVIEST)
    return len(HEAVIEST) + (1 if item.get_closest_marker("slow") else 2)


def _groups(item: pytest.Item) -> set[str]:
    return {str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args}


def _shares_a_module_fixture(item: pytest.Item) -> bool:
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return False
    return any(
        defs[-1].scope in ("module", "class", "package")
        for defs in info.name2fixturedefs.values()
        if defs
    )


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Group the tests that must share a worker, mark server-starting tests slow, and put
    the longest first.

    Tests of one module that share a module-scoped fixture (a warehouse, a served
    directory) run on one worker, which sets it up once; every test that runs flows in
    this process runs on one worker, which starts Prefect's harness once.
    """
    for item in items:
        module = item.nodeid.split("::")[0]
        if (
            SERVER_FIXTURES & set(item.fixturenames)
            or item.nodeid.split("[")[0] in SLOW_TESTS
            or any((module, name) in SLOW_FIXTURES for name in item.fixturenames)
        ):
            item.add_marker(pytest.mark.slow)
        if "prefect_harness" in item.fixturenames:
            item.add_marker(pytest.mark.xdist_group(HARNESS_GROUP))
        elif _shares_a_module_fixture(item):
            item.add_marker(pytest.mark.xdist_group(module))
    items[:] = sorted(items, key=_rank)  # stable: each module's tests stay in order
