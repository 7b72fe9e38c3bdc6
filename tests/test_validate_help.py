"""`claimwatch claims validate --help` says what the command does now: every problem of the
file, one line each, not only the first."""

from __future__ import annotations

from pathlib import Path

from tests.commands import claimwatch


def test_validate_help_promises_every_problem() -> None:
    shown = claimwatch("claims", "validate", "--help")
    assert shown.returncode == 0
    said = " ".join(shown.stdout.split())  # as wrapped to any width
    assert "first problem" not in said
    assert "lists every problem found, one line each" in said


def test_validate_does_what_its_help_says(tmp_path: Path) -> None:
    claims = tmp_path / "claims.yaml"
    claims.write_text('claims:\n  - id: Bad Id\n    text: ""\n  - id: ok\n    text: ok\n', "utf-8")
    checked = claimwatch("claims", "validate", "--claims", str(claims))
    assert checked.returncode == 1
    lines = checked.stderr.strip().splitlines()
    assert len(lines) == 2 and all(f"{claims}: claim 'Bad Id': field " in line for line in lines)
