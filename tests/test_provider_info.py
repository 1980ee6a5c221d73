"""The provider info Airflow reads: valid against Airflow's own schemas, and everything it names imports."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import airflow
import jsonschema
import pytest

from airflow_provider_wan.get_provider_info import get_provider_info

AIRFLOW_DIR = Path(airflow.__file__).parent
# Keys whose string values (or list items) name a module, or a class/function inside one.
MODULE_KEYS = {"python-module", "python-modules"}
OBJECT_KEYS = {"hook-class-name", "class-name", "trigger-class", "notifications", "task-decorators"}


def _named(info: Any) -> Iterator[tuple[str, str]]:
    """Every (key, dotted name) pair anywhere in the provider info."""
    if isinstance(info, dict):
        for key, value in info.items():
            if key in MODULE_KEYS | OBJECT_KEYS:
                for name in value if isinstance(value, list) else [value]:
                    yield key, name
            else:
                yield from _named(value)
    elif isinstance(info, list):
        for item in info:
            yield from _named(item)


def _import(key: str, dotted: str) -> Any:
    if key in MODULE_KEYS:
        return importlib.import_module(dotted)
    module, _, attribute = dotted.rpartition(".")
    return getattr(importlib.import_module(module), attribute)


def test_valid_against_airflow_runtime_schema() -> None:
    schema = json.loads((AIRFLOW_DIR / "provider_info.schema.json").read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_valid_against_provider_yaml_schema() -> None:
    """The stricter provider.yaml schema (it knows ``conn-fields``); its publishing-only keys aside."""
    schema = json.loads((AIRFLOW_DIR / "provider.yaml.schema.json").read_text())
    publishing_only = {"state", "source-date-epoch"}
    schema["required"] = [key for key in schema["required"] if key not in publishing_only]
    jsonschema.validate(get_provider_info(), schema)


def test_names_something_of_each_kind_it_declares() -> None:
    names = list(_named(get_provider_info()))
    assert ("hook-class-name", "airflow_provider_wan.hooks.wan.WanHook") in names
    assert ("python-modules", "airflow_provider_wan.hooks.wan") in names


@pytest.mark.parametrize(("key", "dotted"), sorted(set(_named(get_provider_info()))))
def test_every_listed_name_imports(key: str, dotted: str) -> None:
    assert _import(key, dotted) is not None


def test_connection_types_match_their_hooks() -> None:
    for conn in get_provider_info()["connection-types"]:
        hook = _import("hook-class-name", conn["hook-class-name"])
        assert hook.conn_type == conn["connection-type"]
        assert hook.hook_name == conn["hook-name"]


def test_form_region_table_matches_the_contract() -> None:
    """The form writes the regions out (to stay import-free); they must be the contract's."""
    from airflow_provider_wan.api import REGIONS
    from airflow_provider_wan.api.endpoints import DEFAULT_REGION
    from airflow_provider_wan.hooks import form

    assert {region.id: region.name for region in REGIONS.values()} == form.REGION_NAMES
    assert form.DEFAULT_REGION == DEFAULT_REGION


def test_provider_info_imports_nothing_heavy() -> None:
    """Every Airflow process calls it: it loads neither the contract module nor Airflow nor any client."""
    code = (
        "import json, sys\n"
        "from airflow_provider_wan.get_provider_info import get_provider_info\n"
        "get_provider_info()\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('airflow'))))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == [
        "airflow_provider_wan",
        "airflow_provider_wan.get_provider_info",
        "airflow_provider_wan.hooks",
        "airflow_provider_wan.hooks.form",
    ]
