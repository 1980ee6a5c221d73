"""Run by .ci/package/check.sh in a clean virtual environment that has only the built wheel installed."""

from __future__ import annotations

import importlib.metadata
import sys
from pathlib import Path
from typing import Any

import airflow_provider_wan

DAGS = Path(__file__).resolve().parent / "dags"


def test_the_package_comes_from_the_wheel_with_its_type_marker() -> None:
    package = Path(airflow_provider_wan.__file__).parent
    assert "site-packages" in package.parts, package
    assert (package / "py.typed").is_file()
    assert (package / "emulator" / "media.py").is_file()


def test_entry_points_and_command_are_installed() -> None:
    entry_points = importlib.metadata.distribution("airflow-provider-wan").entry_points
    found = {(entry.group, entry.name): entry.value for entry in entry_points}
    assert found[("pytest11", "wan")] == "airflow_provider_wan.testing.pytest_plugin"
    provider = found[("apache_airflow_provider", "provider_info")]
    assert provider == "airflow_provider_wan.get_provider_info:get_provider_info"
    assert (Path(sys.executable).parent / "wan-emulator").is_file()


def test_airflow_knows_the_provider_and_its_connection_type() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-wan" in manager.providers
    manager.initialize_providers_hooks()
    assert "wan" in manager.hooks


def test_first_example_dag_lands_a_video_in_s3(
    wan_airflow: Any, wan_emulator: Any, wan_connection: str, wan_s3: Any
) -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag
    except ImportError:  # Airflow 3.1
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]

    wan_s3.create_bucket("wan-videos")
    dagbag = DagBag(dag_folder=DAGS)
    assert dagbag.import_errors == {}

    run = wan_airflow.run(dagbag.dags["example_wan_text_to_video"], {"duration": 2})

    landed = run.xcom("generate_video")
    assert wan_s3.get(landed["s3_uri"])[4:8] == b"ftyp"
    assert wan_emulator.create_count() == 1
