"""The README's "Testing your DAGs offline" recipe, run verbatim in a fresh project, so it cannot drift."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "### In pytest (the fixtures come with the package)"
BLOCK = re.compile(r"```(?P<lang>\w+)\n(?P<code>.*?)```", re.DOTALL)


def recipe_files() -> dict[str, str]:
    """The section's code blocks by the file each names in its first line (``# tests/test_x.py``)."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    section = section[: section.index("\n### ", len(SECTION))]
    files = {}
    for block in BLOCK.finditer(section):
        first_line = block["code"].splitlines()[0]
        assert first_line.startswith("# "), first_line
        files[first_line[2:].strip()] = block["code"]
    return files


def test_readme_names_a_config_and_a_test_file() -> None:
    assert set(recipe_files()) == {"pyproject.toml", "tests/test_my_video_dag.py"}


def test_readme_recipe_passes_as_written(pytester: pytest.Pytester) -> None:
    for name, code in recipe_files().items():
        path = pytester.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(code, encoding="utf-8")
    tests = sum(
        1
        for line in recipe_files()["tests/test_my_video_dag.py"].splitlines()
        if line.startswith("def test_")
    )

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=600)

    result.assert_outcomes(passed=tests)
    assert tests == 3
