"""Run the docs' console examples again and write what they print now into the pages.

    .venv/bin/python docs/examples.py WAREHOUSE [PAGE...]

WAREHOUSE is the warehouse of one `make run` over the offline sample (a copy: it is never
written). Each page gets a fresh copy, as `warehouse/lake` in a scratch folder
(claimwatch-examples in the temporary directory) holding `seeds/` and `tests/` of the
checkout, so the commands read as they are written; COLUMNS is 100.
In a ```console block, each `$ claimwatch ...` line (or `echo ... | claimwatch ...`) is run
with bash, stdout and stderr together, and the lines under it become its output. A block
with another command in it (`make`, `prefect`, `export`) is left alone. Comments on a page
steer it:

    <!-- examples: after guide/review.md -->   replay that page's commands first
    <!-- examples: setup COMMAND -->           run COMMAND in the scratch folder first
    <!-- examples: keep -->                    (before a block) run it, keep its text (excerpts)

Without PAGE, every page of mkdocs.yml's nav and the README. Review the diff: ids, dates and
digest names change from run to run.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The `claimwatch` beside the Python running this (.venv/bin).
BIN = Path(sys.executable).parent
BLOCK = re.compile(
    r"(?P<keep><!-- examples: keep -->\n)?```console\n(?P<body>.*?)^```", re.S | re.M
)
DIRECTIVE = re.compile(r"<!-- examples: (after|setup) (.+?) -->")
ENV_ASSIGNMENT = re.compile(r"^[A-Z_][A-Z0-9_]*=\S*$")


def runnable(command: str) -> bool:
    """A claimwatch command (maybe fed by echo or printf, maybe with variables set)."""
    for part in command.split("|"):
        words = [w for w in shlex.split(part, comments=True) if not ENV_ASSIGNMENT.match(w)]
        if words and words[0] not in ("claimwatch", "echo", "printf"):
            return False
    return "claimwatch" in command


def commands(body: str) -> list[tuple[str, list[str]]]:
    """A console block as (command, the output lines under it)."""
    steps: list[tuple[str, list[str]]] = []
    for line in body.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
    return steps


# Prefect's progress log (stderr of `run` and `rematch`): the pages leave it out.
PREFECT_LOG = re.compile(r"^(\d\d:\d\d:\d\d\.\d{3} \| |See https://docs\.prefect\.io/)")


def run(command: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        # A newline before the brace: a command may end in a `# comment`.
        ["bash", "-c", f"{{ {command}\n}} 2>&1"],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return "".join(
        line for line in done.stdout.splitlines(keepends=True) if not PREFECT_LOG.match(line)
    )


# One fixed folder, so that paths the commands print read the same from run to run.
SCRATCH = Path(tempfile.gettempdir()) / "claimwatch-examples"


def scratch(warehouse: Path, folder: Path) -> Path:
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for name in ("seeds", "tests"):
        (folder / name).symlink_to(ROOT / name)
    (folder / "warehouse").mkdir()
    shutil.copytree(warehouse, folder / "warehouse" / "lake")
    # A warehouse an older claimwatch wrote gets the schema a pass would give it now.
    subprocess.run([BIN / "claimwatch", "migrate"], cwd=folder, capture_output=True, check=True)
    return folder


def replay(page: Path, cwd: Path, env: dict[str, str], write: bool) -> str:
    """Run a page's examples in `cwd`; the page's text with the new outputs."""
    text = page.read_text(encoding="utf-8")
    for kind, value in DIRECTIVE.findall(text):
        if kind == "after":
            replay(ROOT / "docs" / value, cwd, env, write=False)
        else:
            run(value, cwd, env)

    def rewrite(block: re.Match[str]) -> str:
        steps = commands(block.group("body"))
        if not steps or not all(runnable(c) for c, _ in steps):
            return block.group(0)
        lines = []
        for command, _ in steps:
            lines += [f"$ {command}", *run(command, cwd, env).splitlines()]
        if block.group("keep") or not write:
            return block.group(0)
        return "```console\n" + "\n".join(lines) + "\n```"

    return BLOCK.sub(rewrite, text)


def nav_pages() -> list[Path]:
    config = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return [ROOT / "README.md"] + [
        ROOT / "docs" / p for p in re.findall(r"^\s+- [^:]+: (\S+\.md)$", config, re.M)
    ]


def main(argv: list[str], folder: Path = SCRATCH) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    warehouse = Path(argv[0]).resolve()
    pages = [Path(p).resolve() for p in argv[1:]] or nav_pages()
    # Tables as wide as a 100-column terminal, whatever this one is.
    env = dict(os.environ, PATH=f"{BIN}{os.pathsep}{os.environ['PATH']}", COLUMNS="100")
    env.pop("CLAIMWATCH_DB", None)
    for page in pages:
        cwd = scratch(warehouse, folder)
        try:
            new = replay(page, cwd, env, write=True)
        finally:
            shutil.rmtree(cwd)
        if new != page.read_text(encoding="utf-8"):
            page.write_text(new, encoding="utf-8")
            print(f"updated {page}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
