"""The connection form the Airflow UI shows for ``wan``, on whichever Airflow version is installed.

Airflow 3.2+ reads the declarative ``conn-fields`` of the provider info; 3.1 builds the form from the
hook's WTForms fields. Both are read here the way the API server reads them, in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import airflow
import jsonschema
import pytest

from airflow_provider_wan.api import REGIONS
from airflow_provider_wan.hooks.wan import WanHook

MARKER = "WAN-FORM:"
UI_METADATA = f"""
import json
from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
from airflow.providers_manager import ProvidersManager

[wan] = [meta for meta in HookMetaService.hook_meta_data() if meta.connection_type == "wan"]
manager = ProvidersManager()
manager.initialize_providers_hooks()
print({MARKER!r} + json.dumps({{
    "ui": wan.model_dump(mode="json"),
    "widgets": sorted(key for key in manager.connection_form_widgets if key.startswith("extra__wan__")),
    "behaviour": manager.field_behaviours.get("wan"),
    "testable": manager.hooks["wan"].connection_testable,
}}))
"""


@pytest.fixture(scope="module")
def form() -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", UI_METADATA],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=120,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(MARKER)]
    assert lines, done.stderr[-3000:]
    return json.loads(lines[0][len(MARKER) :])


def test_standard_fields_are_relabelled_and_hidden(form: dict[str, Any]) -> None:
    fields = form["ui"]["standard_fields"]

    assert fields["password"]["title"] == "API Key"
    assert fields["host"]["title"] == "Base URL (optional)"
    assert "http://127.0.0.1:8765/api/v1" in fields["host"]["placeholder"]
    assert [name for name in ("login", "url_schema", "port") if fields[name]["hidden"]] == [
        "login",
        "url_schema",
        "port",
    ]
    assert not fields["password"]["hidden"]
    assert not fields["host"]["hidden"]


def test_region_is_a_choice_of_region_ids(form: dict[str, Any]) -> None:
    region = form["ui"]["extra_fields"]["region"]

    assert region["schema"]["title"] == "Region"
    assert region["schema"]["enum"] == list(REGIONS)
    assert "ap-southeast-1 (Singapore)" in region["description"]
    assert "eu-central-1 (Frankfurt)" in region["description"]


def test_workspace_id_is_a_text_field(form: dict[str, Any]) -> None:
    workspace = form["ui"]["extra_fields"]["workspace_id"]

    assert workspace["schema"]["title"] == "Workspace ID"
    assert "string" in workspace["schema"]["type"]
    assert "maas.aliyuncs.com" in workspace["description"]


def test_providers_manager_knows_the_form_and_the_test_button(form: dict[str, Any]) -> None:
    assert form["widgets"] == ["extra__wan__region", "extra__wan__workspace_id"]
    assert form["behaviour"]["hidden_fields"] == ["login", "schema", "port"]
    assert form["behaviour"]["relabeling"] == {"password": "API Key", "host": "Base URL (optional)"}
    assert form["testable"] is True


def test_hook_methods_give_the_same_form_for_airflow_3_1() -> None:
    from wtforms.validators import AnyOf

    widgets = WanHook.get_connection_form_widgets()

    assert sorted(widgets) == ["region", "workspace_id"]
    region = widgets["region"]
    assert region.args[0] == "Region"
    assert region.kwargs["default"] == "ap-southeast-1"
    [choice] = [v for v in region.kwargs["validators"] if isinstance(v, AnyOf)]
    assert list(choice.values) == list(REGIONS)
    assert widgets["workspace_id"].args[0] == "Workspace ID"


def test_hook_field_behaviour_is_valid_for_airflow() -> None:
    schema_path = Path(airflow.__file__).parent / "customized_form_field_behaviours.schema.json"

    behaviour = WanHook.get_ui_field_behaviour()

    jsonschema.validate(behaviour, json.loads(schema_path.read_text()))
    assert behaviour["hidden_fields"] == ["login", "schema", "port"]
