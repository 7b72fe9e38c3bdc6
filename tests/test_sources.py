from pathlib import Path

import pytest

from claimwatch.exceptions import SourcesError
from claimwatch.sources.config import load_sources
from tests.conftest import SEEDS


def test_seed_sources_hold_the_sample_and_live_feeds() -> None:
    sources = load_sources(SEEDS / "sources.yaml")
    samples = [s for s in sources.sources if s.sample]
    assert len(samples) == 1 and samples[0].allow_private
    live = [s for s in sources.sources if not s.sample]
    assert len(live) >= 5
    assert all(s.location.startswith(("http://", "https://")) for s in live)
    kinds = {s.kind for s in live}
    assert {"feed", "google_news", "gdelt"} <= kinds


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "sources:\n  - name: a\n    url: http://x.org/f\n  - name: a\n    url: http://y.org/f\n",
            "source name 'a' is used twice",
        ),
        ("sources:\n  - name: a\n    url: not a url\n", "source 'a': field 'url'"),
        (
            "sources:\n  - name: a\n    kind: gopher\n    url: http://x.org/\n",
            "source 'a': field 'kind'",
        ),
        ("sources:\n  - url: http://x.org/\n", "source #1: field 'name': Field required"),
        ("sources: []\n", "field 'sources'"),
        ("- just a list\n", "expected a mapping with a top-level 'sources' list"),
    ],
)
def test_bad_sources_file_gives_one_line(tmp_path: Path, body: str, expected: str) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(body, encoding="utf-8")
    with pytest.raises(SourcesError) as info:
        load_sources(path)
    assert expected in str(info.value)
    assert str(info.value).startswith(str(path))
    assert "\n" not in str(info.value)


def test_disabled_sources_are_not_enabled(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "sources:\n  - name: a\n    url: http://x.org/\n"
        "  - name: b\n    url: http://y.org/\n    enabled: false\n",
        encoding="utf-8",
    )
    assert [s.name for s in load_sources(path).enabled] == ["a"]
