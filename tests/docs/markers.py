"""Reading the docs as Sphinx and a code host do: code regions between ``[START name]`` and ``[END name]``
marker lines (what ``literalinclude`` takes with ``start-after``/``end-before``), and the code blocks of
Markdown pages (read with markdown-it-py, the parser MyST is built on)."""

from __future__ import annotations

import configparser
import os
import subprocess
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
EXAMPLES = DOCS / "examples"
README = ROOT / "README.md"


def region(path: Path, name: str) -> str:
    """The lines strictly between the line holding ``[START name]`` and the next holding ``[END name]``,
    dedented, as ``literalinclude`` with ``:dedent:`` shows them."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    starts = [at for at, line in enumerate(lines) if f"[START {name}]" in line]
    assert len(starts) == 1, f"{path.name}: [START {name}] appears {len(starts)} times"
    end = next((at for at in range(starts[0], len(lines)) if f"[END {name}]" in lines[at]), None)
    assert end is not None, f"{path.name}: no [END {name}] after its START"
    return textwrap.dedent("".join(lines[starts[0] + 1 : end]))


def region_names(path: Path) -> list[str]:
    """Every marked region of a file, in order."""
    names = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if "[START " in line:
            names.append(line.split("[START ", 1)[1].split("]", 1)[0])
    return names


def run_shell(
    path: Path, *names: str, env: dict[str, str] | None = None, then: str = ""
) -> subprocess.CompletedProcess[str]:
    """The named regions of a shell file, run in that order by bash as one script (``set -euo pipefail``),
    and ``then`` after them (a test's own look at what they did)."""
    script = "set -euo pipefail\n" + "".join(region(path, name) for name in names) + then
    return subprocess.run(
        ["bash", "-c", script],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@dataclass(frozen=True)
class CodeBlock:
    """A fenced block of a Markdown page: its info string (``python``, ``{literalinclude} path``...),
    the directive options it starts with (``:start-after: ...``), and its text."""

    page: Path
    line: int
    info: str
    options: dict[str, str]
    text: str

    @property
    def directive(self) -> str | None:
        return self.info[1 : self.info.index("}")] if self.info.startswith("{") else None

    @property
    def argument(self) -> str:
        return self.info.partition("}")[2].strip()


def code_blocks(page: Path) -> list[CodeBlock]:
    blocks = []
    for token in MarkdownIt("commonmark").parse(page.read_text(encoding="utf-8")):
        if token.type not in {"fence", "code_block"}:
            continue
        options, body = {}, token.content.splitlines(keepends=True)
        while body and body[0].startswith(":") and body[0].count(":") >= 2:
            name, _, value = body.pop(0)[1:].partition(":")
            options[name.strip()] = value.strip().strip('"')
        line = token.map[0] + 1 if token.map else 0
        blocks.append(CodeBlock(page, line, token.info.strip(), options, "".join(body)))
    return blocks


def pages() -> list[Path]:
    """Every page of the site (Markdown under docs/, not the example files)."""
    return sorted(path for path in DOCS.rglob("*.md") if EXAMPLES not in path.parents)


def load_dag(path: Path) -> Any:
    """The ``dag`` an example file defines, executed as Airflow's DAG processor would import the file."""
    namespace: dict[str, Any] = {"__file__": str(path), "__name__": path.stem}
    exec(compile(path.read_text(encoding="utf-8"), str(path), "exec"), namespace)
    return namespace["dag"]


def config_block(name: str) -> configparser.ConfigParser:
    """A marked block of ``docs/examples/airflow.cfg``, read as Airflow reads its configuration file."""
    config = configparser.ConfigParser()
    config.read_string(region(EXAMPLES / "airflow.cfg", name))
    return config
