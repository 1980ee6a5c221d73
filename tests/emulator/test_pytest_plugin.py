"""The pytest plugin as our users meet it: installed by entry point, fixtures in a fresh test session."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from airflow_provider_wan.testing.dag_runs import WanAirflow

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
    unknown_model = {**body, "model": "wan2.6-t2w"}
    refused = requests.post(connection["host"] + CREATE_PATH, json=unknown_model, headers=headers)
    assert refused.status_code == 400
    assert wan_emulator.create_count(prompt="from a user's test") == 1  # what the service accepted
    assert wan_emulator.create_count(include_refused=True) == 2
    wan_emulator.set_faults("query", error_500=1.0)


def test_state_is_clean_for_the_next_test(wan_emulator):
    assert wan_emulator.create_count(include_refused=True) == 0
    assert wan_emulator.state()["faults"] == {}
    assert "AIRFLOW_CONN_WAN_DEFAULT" not in os.environ


def test_one_server_per_session(wan_emulator, wan_emulator_server):
    assert wan_emulator is wan_emulator_server
"""

# A user's DAG tests with the whole kit; Airflow is imported at the module top, so the ini option is on.
KIT_INI = INI + "wan_airflow_isolated_home = true\n"
KIT_TESTS = """
import datetime as dt
import json
import os

import pytest
from airflow.sdk import DAG, task

from airflow_provider_wan.operators.wan import WanTextToVideoOperator
from airflow_provider_wan.testing.dag_runs import WanDagRunFailed

with DAG("mapped_and_conf", schedule=None, start_date=dt.datetime(2026, 1, 1), params={"n": 2}) as mapped:

    @task
    def numbers(params=None):
        return list(range(params["n"]))

    @task
    def double(n):
        return 2 * n

    double.expand(n=numbers())

with DAG("one_fails", schedule=None, start_date=dt.datetime(2026, 1, 1)) as failing:

    @task
    def fine():
        return "fine"

    @task
    def broken(value):
        raise LookupError(f"no such thing after {value}")

    broken(fine())

with DAG("video", schedule=None, start_date=dt.datetime(2026, 1, 1)) as video:
    WanTextToVideoOperator(
        task_id="generate", model="wan2.6-t2v", prompt="a kit test", size="1280*720", duration=2,
        deferrable=True,
    )


def test_home_is_isolated_and_migrated(wan_airflow):
    home = os.environ["AIRFLOW_HOME"]
    assert home != os.environ["USERS_OWN_AIRFLOW_HOME"]
    assert "wan-airflow-home-" in home
    assert str(wan_airflow.home) == home
    assert os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{home}/airflow.db"


def test_run_with_conf_and_mapped_xcom(wan_airflow):
    run = wan_airflow.run(mapped, conf={"n": 3})
    assert run.state == "success"
    assert run.xcom("numbers") == [0, 1, 2]
    assert run.xcom("double") == [0, 2, 4]
    assert run.xcom("double", map_index=2) == 4


def test_failed_run_names_the_task_and_its_exception(wan_airflow):
    with pytest.raises(WanDagRunFailed) as failed:
        wan_airflow.run(failing)
    assert failed.value.task_id == "broken"
    assert isinstance(failed.value.error, LookupError)
    assert "task broken failed: LookupError: no such thing after fine" in str(failed.value)
    assert failed.value.run.xcom("fine") == "fine"


def test_deferrable_task_through_its_trigger(wan_airflow, wan_emulator, wan_connection, capfd):
    run = wan_airflow.run(video)
    assert run.xcom("generate")["status"] == "SUCCEEDED"
    assert "[DAG TEST] running trigger in line" in capfd.readouterr().out
    assert wan_emulator.create_count() == 1


def test_s3_with_aws_default_on_it(wan_s3):
    from airflow.providers.amazon.aws.hooks.s3 import S3Hook

    assert json.loads(os.environ["AIRFLOW_CONN_AWS_DEFAULT"])["extra"]["endpoint_url"] == wan_s3.endpoint_url
    assert wan_s3.create_bucket("kit-bucket") == "kit-bucket"
    S3Hook(aws_conn_id="aws_default").load_bytes(b"through aws_default", "a/key", "kit-bucket")
    assert wan_s3.get("s3://kit-bucket/a/key") == b"through aws_default"
    with pytest.raises(ValueError, match="expected s3://bucket/key"):
        wan_s3.get("kit-bucket/a/key")


def test_s3_is_emptied_for_the_next_test(wan_s3):
    assert wan_s3.client.list_buckets()["Buckets"] == []
"""


def users_own_home(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The user's environment names an Airflow home of their own, which the kit must not use."""
    home = pytester.path / "users-own-airflow-home"
    for name in ("AIRFLOW_HOME", "USERS_OWN_AIRFLOW_HOME"):
        monkeypatch.setenv(name, str(home))
    monkeypatch.setenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{home}/airflow.db")


def test_plugin_fixtures_in_a_users_session(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(test_user_dag=USER_TESTS)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


def test_the_whole_kit_in_a_users_session(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh process (Airflow reads its home at import): the user's DAGs run, fail and report."""
    users_own_home(pytester, monkeypatch)
    pytester.makeini(KIT_INI)
    pytester.makeconftest("import airflow.sdk  # a conftest.py may import Airflow too\n")
    pytester.makepyfile(test_user_kit=KIT_TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=600)
    result.assert_outcomes(passed=6)


def test_without_the_ini_option_the_fixture_isolates_the_home_itself(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Test modules that import Airflow only inside their tests need no configuration at all."""
    users_own_home(pytester, monkeypatch)
    pytester.makeini(INI)
    pytester.makepyfile(
        test_lazy="""
import datetime as dt
import os


def test_runs_a_dag(wan_airflow):
    from airflow.sdk import DAG, task

    assert os.environ["AIRFLOW_HOME"] == str(wan_airflow.home) != os.environ["USERS_OWN_AIRFLOW_HOME"]
    with DAG("lazy", schedule=None, start_date=dt.datetime(2026, 1, 1)) as dag:
        task(lambda: 42, task_id="answer")()
    assert wan_airflow.run(dag).xcom("answer") == 42
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=600)
    result.assert_outcomes(passed=1)


def test_airflow_imported_first_without_the_ini_option_is_a_clear_error(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_too_late="""
import airflow.sdk

def test_uses_the_kit(wan_airflow):
    pass
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", timeout=300)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*AirflowAlreadyImportedError*wan_airflow_isolated_home = true*"])


def test_plugin_imports_nothing_heavy_until_a_fixture_is_used(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI)
    pytester.makepyfile(
        test_imports="""
import sys

HEAVY = ("airflow", "aiohttp", "boto3", "botocore", "moto", "av", "requests", "sqlalchemy")

def test_nothing_heavy_loaded():
    assert [name for name in sys.modules if name.split(".")[0] in HEAVY] == []
"""
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_plugin_module_loads_only_the_standard_library_and_pytest() -> None:
    code = (
        "import json, sys\n"
        "import pytest\n"
        "before = set(sys.modules)\n"
        "import airflow_provider_wan.testing.pytest_plugin\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    added = json.loads(done.stdout)
    ours = [name for name in added if name.startswith("airflow_provider_wan")]
    assert ours == [
        "airflow_provider_wan",
        "airflow_provider_wan.testing",
        "airflow_provider_wan.testing.pytest_plugin",
    ]
    others = {name.split(".")[0] for name in added} - {"airflow_provider_wan"}
    assert others <= set(sys.stdlib_module_names), others


def test_plugin_ini_options(pytester: pytest.Pytester) -> None:
    pytester.makeini(
        INI + "wan_emulator_task_seconds = 7\nwan_emulator_queue_seconds = 1\nwan_emulator_limits = false\n"
        "wan_emulator_task_api_rate = none\n"
    )
    pytester.makepyfile(
        test_configured="""
def test_configured(wan_emulator):
    state = wan_emulator.state()
    assert (state["task_seconds"], state["queue_seconds"], state["limits"]) == (7.0, 1.0, False)
    assert state["task_api_rate"] is None
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_plugin_readings_option(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "wan_emulator_readings = list-refused=404 orig-prompt=normalised\n")
    pytester.makepyfile(
        test_readings="""
def test_readings(wan_emulator):
    assert wan_emulator.state()["readings"]["list_refused"] == 404
    wan_emulator.set_readings(list_refused=None, usage_shape="text")
    assert wan_emulator.state()["readings"]["usage_shape"] == "text"

def test_reset_for_the_next_test(wan_emulator):
    readings = wan_emulator.state()["readings"]
    assert (readings["list_refused"], readings["orig_prompt"], readings["usage_shape"]) == (
        404, "normalised", "numbers"
    )
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=2)


def test_plugin_readings_option_refuses_a_bad_reading(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "wan_emulator_readings = list-refused=500\n")
    pytester.makepyfile(test_bad="def test_bad(wan_emulator):\n    pass\n")
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    assert "ini option wan_emulator_readings: list_refused=500" in result.stdout.str() + result.stderr.str()


def test_plugin_task_api_rate_option(pytester: pytest.Pytester) -> None:
    pytester.makeini(INI + "wan_emulator_task_api_rate = 5\n")
    pytester.makepyfile(
        test_rate="""
def test_rate(wan_emulator):
    assert wan_emulator.state()["task_api_rate"] == 5.0
    assert wan_emulator.state()["limits"] is True
"""
    )
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=1)


def test_the_database_is_migrated_once_per_airflow_version_then_copied(
    wan_airflow: WanAirflow, tmp_path: Path
) -> None:
    from airflow_provider_wan.testing.dag_runs import WanAirflow, migrated_template, session_template

    template = session_template()
    assert template is not None  # this session's database came from a template, not its own migration
    assert template.parent == wan_airflow.templates
    made = template.stat().st_mtime_ns
    assert migrated_template(template.parent) == template
    assert template.stat().st_mtime_ns == made  # there already: not migrated again

    another = WanAirflow(tmp_path / "home", wan_airflow.templates)
    another.home.mkdir()
    another.migrate()
    copied = (another.home / "airflow.db").read_bytes()
    assert copied == template.read_bytes()
    assert copied.startswith(b"SQLite format 3")
