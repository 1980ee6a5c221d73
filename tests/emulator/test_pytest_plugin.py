"""The pytest plugin as our users meet it: installed by entry point, fixtures in a fresh test session."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

INI = "[pytest]\nasyncio_default_fixture_loop_scope = function\n"
USER_TESTS = """
import json
import os

import requests

from airflow_provider_wan.api import CREATE_PATH, create_headers


def test_connection_points_at_the_emulator(wan_emulator, wan_connection):
    assert wan_connection == "wan_default"
    connection = json.loads(os.environ["AIRFLOW_CONN_WAN_DEFAULT"])
    assert connection == {"conn_type": "wan", "host": wan_emulator.base_url, "password": wan_emulator.api_key}
    body = {"model": "wan2.6-t2v", "input": {"prompt": "from a user's test"}}
    headers = create_headers(connection["password"])
    answer = requests.post(connection["host"] + CREATE_PATH, json=body, headers=headers)
    assert answer.status_code == 200
    assert wan_emulator.create_count(prompt="from a user's test") == 1
    wan_emulator.set_faults("query", error_500=1.0)


def test_state_is_clean_for_the_next_test(wan_emulator):
    assert wan_emulator.create_count() == 0
    assert wan_emulator.state()["faults"] == {}
    assert "AIRFLOW_CONN_WAN_DEFAULT" not in os.environ


def test_one_server_per_session(wan_emulator, wan_emulator_server):
    assert wan_emulator is wan_emulator_server
"""


def test_plugin_fixtures_in_a_users_session(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user_dag=USER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


def test_plugin_does_not_import_airflow_or_av(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_imports="""
import sys

def test_nothing_heavy_loaded():
    assert "av" not in sys.modules
    assert not any(name == "airflow" or name.startswith("airflow.") for name in sys.modules)
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_plugin_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        INI + "wan_emulator_task_seconds = 7\nwan_emulator_queue_seconds = 1\nwan_emulator_limits = false\n"
    )
    pytester.makepyfile(
        test_configured="""
def test_configured(wan_emulator):
    state = wan_emulator.state()
    assert (state["task_seconds"], state["queue_seconds"], state["limits"]) == (7.0, 1.0, False)
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)
