"""The how-to "Test your DAGs offline": its two files (``docs/examples/offline_testing/pyproject.toml`` and
``docs/examples/offline_testing/tests/test_my_video_dag.py``) copied into a fresh project, and its tests
passing there with the kit the package ships."""

from __future__ import annotations

import shutil

import pytest

from tests.docs.markers import EXAMPLES

pytest_plugins = ["pytester"]

RECIPE = EXAMPLES / "offline_testing"
FILES = ["offline_testing/pyproject.toml", "offline_testing/tests/test_my_video_dag.py"]


def test_the_recipe_passes_in_a_fresh_project(pytester: pytest.Pytester) -> None:
    for name in FILES:
        target = pytester.path / name.removeprefix("offline_testing/")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(EXAMPLES / name, target)
    tests = (EXAMPLES / FILES[1]).read_text(encoding="utf-8").count("\ndef test_")

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=600)

    result.assert_outcomes(passed=tests)
    assert tests == 3
