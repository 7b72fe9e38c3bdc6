"""Build tatoeba.jsonl from a checkout of facebookresearch/LASER (data/tatoeba/v1).

    python benchmarks/data/xling/build.py PATH/TO/LASER

Kept for provenance: the JSON lines are committed, so nothing downloads at benchmark time.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# Tatoeba's three-letter codes, and the two-letter ones claimwatch reports: the ten
# languages other than English that both the multilingual encoder and our catalogs meet.
LANGUAGES = {
    "deu": "de",
    "fra": "fr",
    "spa": "es",
    "ita": "it",
    "nld": "nl",
    "pol": "pl",
    "por": "pt",
    "rus": "ru",
    "cmn": "zh",
    "jpn": "ja",
}


def main() -> None:
    folder = Path(sys.argv[1]) / "data" / "tatoeba" / "v1"
    lines = []
    for code, language in LANGUAGES.items():
        foreign = (folder / f"tatoeba.{code}-eng.{code}").read_text("utf-8").splitlines()
        english = (folder / f"tatoeba.{code}-eng.eng").read_text("utf-8").splitlines()
        for text, translation in zip(foreign, english, strict=True):
            record = {"language": language, "text": text.strip(), "english": translation.strip()}
            lines.append(json.dumps(record, ensure_ascii=False) + "\n")
    Path(__file__).with_name("tatoeba.jsonl").write_text("".join(lines), encoding="utf-8")


if __name__ == "__main__":
    main()
