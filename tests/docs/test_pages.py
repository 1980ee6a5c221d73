"""The docs keep themselves true: every code block of the site is included from a marked region of a file
that a test runs, every code block of the README is such a region word for word, each operator, trigger,
sensor and transfer has its page with an example, the API reference covers every public module, and the
troubleshooting page names every error code of the service's contract and every exception of the package."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import textwrap
from functools import cache
from pathlib import Path

import pytest

import airflow_provider_wan
from tests.docs.markers import (
    DOCS,
    EXAMPLES,
    README,
    ROOT,
    CodeBlock,
    code_blocks,
    pages,
    region,
    region_names,
)

#: Directives a page may hold as fenced blocks; code itself only through ``literalinclude`` (``eval-rst``
#: holds the API reference's autodoc directives, which MyST cannot run itself).
DIRECTIVES = {"literalinclude", "toctree", "include", "image", "eval-rst"}
#: The error table of the service's contract (and the media families' input inspection code).
CONTRACT_CODES = [
    "InvalidParameter",
    "InvalidParameter.DataInspection",
    "DataInspectionFailed",
    "IPInfringementSuspect",
    "Arrearage",
    "UnsupportedOperation",
    "InvalidApiKey",
    "AccessDenied",
    "AccessDenied.Unpurchased",
    "Model.AccessDenied",
    "Workspace.AccessDenied",
    "ModelNotFound",
    "Throttling",
    "Throttling.RateQuota",
    "Throttling.BurstRate",
    "Throttling.AllocationQuota",
    "InternalError",
    "InternalError.Algo",
    "ModelServiceFailed",
    "RequestTimeOut",
    "InternalError.Timeout",
    "ModelServingError",
    "ModelUnavailable",
]
PUBLIC_MODULES = [
    "airflow_provider_wan.operators.wan",
    "airflow_provider_wan.operators.budget",
    "airflow_provider_wan.transfers.wan_to_s3",
    "airflow_provider_wan.sensors.wan",
    "airflow_provider_wan.triggers.wan",
    "airflow_provider_wan.hooks.wan",
    "airflow_provider_wan.api",
    "airflow_provider_wan.exceptions",
    "airflow_provider_wan.testing",
    "airflow_provider_wan.emulator",
]
#: Each operator, trigger, sensor and transfer: the title of its page names it.
COMPONENTS = [
    "WanTextToVideoOperator",
    "WanImageToVideoOperator",
    "WanKeyframesToVideoOperator",
    "WanReferenceToVideoOperator",
    "WanVideoToS3Operator",
    "WanS3DestinationCheckOperator",
    "WanBatchBudgetCheckOperator",
    "WanTaskTrigger",
    "WanTaskSensor",
]


@cache
def sources_of_tests() -> str:
    """The text of every test module but this one: a file it names is run by a test."""
    here = Path(__file__).resolve()
    return "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "tests").rglob("*.py") if p != here)


def run_by_a_test(path: Path) -> bool:
    """A test names the file: an example file by its path under docs/examples, an example DAG by its id."""
    if path.parent == ROOT / "example_dags":
        return path.stem in sources_of_tests()
    return path.relative_to(EXAMPLES).as_posix() in sources_of_tests()


def marked_files() -> list[Path]:
    found = [*EXAMPLES.rglob("*"), *(ROOT / "example_dags").glob("*.py")]
    return sorted(path for path in found if path.is_file() and region_names(path))


def site_blocks() -> list[CodeBlock]:
    return [block for page in pages() for block in code_blocks(page)]


def where(block: CodeBlock) -> str:
    return f"{block.page.relative_to(ROOT)}:{block.line}"


def test_the_site_has_pages_and_includes() -> None:
    assert len(pages()) >= 20
    assert sum(block.directive == "literalinclude" for block in site_blocks()) >= 20


@pytest.mark.parametrize("block", site_blocks(), ids=where)
def test_each_code_block_of_the_site_is_a_marked_region_of_a_file_a_test_runs(block: CodeBlock) -> None:
    assert block.directive in DIRECTIVES, f"{where(block)}: code comes from a tested file (literalinclude)"
    if block.directive == "eval-rst":
        assert autodoc_modules(block), f"{where(block)}: eval-rst only for autodoc"
        return
    if block.directive != "literalinclude":
        return
    path = (block.page.parent / block.argument).resolve()
    assert path.is_file(), f"{where(block)}: {block.argument} does not exist"
    start, end = block.options.get("start-after", ""), block.options.get("end-before", "")
    name = start.removeprefix("[START ").removesuffix("]")
    assert start == f"[START {name}]", f"{where(block)}: start-after a [START] marker"
    assert end == f"[END {name}]", f"{where(block)}: end-before its [END] marker"
    shown = region(path, name)
    assert shown.strip(), f"{where(block)}: the region {name} is empty"
    raw = "".join(path.read_text(encoding="utf-8").split(start, 1)[1].split("\n", 1)[1].split(end, 1)[0])
    if textwrap.dedent(raw) != raw:
        assert "dedent" in block.options, f"{where(block)}: an indented region needs :dedent:"
    assert run_by_a_test(path), f"{where(block)}: no test names {path.relative_to(ROOT)}"


def test_each_readme_block_is_a_marked_region_of_a_file_a_test_runs() -> None:
    regions = {region(path, name): path for path in marked_files() for name in region_names(path)}
    blocks = code_blocks(README)
    assert len(blocks) >= 2
    for block in blocks:
        assert block.directive is None
        assert block.text in regions, f"README.md:{block.line} is not a marked region of an example file"
        assert run_by_a_test(regions[block.text]), f"README.md:{block.line}: no test runs its file"


@pytest.mark.parametrize("component", COMPONENTS)
def test_each_operator_trigger_sensor_and_transfer_has_a_page_with_an_example(component: str) -> None:
    titled = [page for page in pages() if component in page.read_text(encoding="utf-8").split("\n", 1)[0]]
    assert len(titled) == 1, f"one page titled with {component}: {titled}"
    assert any(block.directive == "literalinclude" for block in code_blocks(titled[0]))


def autodoc_modules(block: CodeBlock) -> list[str]:
    """The modules an ``eval-rst`` block documents; empty when it holds anything but autodoc."""
    lines = [line for line in block.text.splitlines() if line.strip()]
    heads = [line for line in lines if not line.startswith("   :")]
    if not heads or not all(line.startswith(".. automodule:: ") for line in heads):
        return []
    return [line.removeprefix(".. automodule:: ").strip() for line in heads]


def test_the_api_reference_documents_every_public_module() -> None:
    documented = {
        module
        for page in (DOCS / "api").glob("*.md")
        for block in code_blocks(page)
        for module in autodoc_modules(block)
    }
    assert set(PUBLIC_MODULES) <= documented
    for module in PUBLIC_MODULES:
        importlib.import_module(module)


def troubleshooting() -> str:
    return (DOCS / "troubleshooting.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("code", CONTRACT_CODES)
def test_troubleshooting_names_each_error_code_of_the_contract(code: str) -> None:
    assert f"`{code}`" in troubleshooting()


def public_exceptions() -> list[str]:
    """Every exception class the package defines outside the emulator's internals."""
    names = set()
    for info in pkgutil.walk_packages(airflow_provider_wan.__path__, "airflow_provider_wan."):
        if info.name.startswith("airflow_provider_wan.emulator"):
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                names.add(name)
    return sorted(names)


def test_troubleshooting_names_each_exception_of_the_package() -> None:
    found = public_exceptions()
    assert "WanTaskFinalError" in found
    missing = [name for name in found if f"`{name}`" not in troubleshooting()]
    assert missing == []
