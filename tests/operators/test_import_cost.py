"""DAG parsing imports the operator and sensor modules: no HTTP, AWS or media stack may come with them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = ("aiohttp", "boto3", "botocore", "av")
# Our own modules that import those (or requests) at their top.
OURS_HEAVY = (
    "airflow_provider_wan.hooks.aio",
    "airflow_provider_wan.hooks.wan",
    "airflow_provider_wan.emulator",
)

PROBE = """
import json, sys
import airflow.sdk
before = set(sys.modules)
import {module}
after = set(sys.modules)
print(json.dumps({{"added": sorted(after - before), "loaded": sorted(after)}}))
"""


def imports_of(module: str) -> dict[str, list[str]]:
    """What importing ``module`` adds to a fresh interpreter that has already imported ``airflow.sdk``."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)], capture_output=True, text=True, check=True
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "module",
    [
        "airflow_provider_wan.operators.wan",
        "airflow_provider_wan.operators.generation",
        "airflow_provider_wan.operators.image_to_video",
        "airflow_provider_wan.operators.keyframes_to_video",
        "airflow_provider_wan.operators.reference_to_video",
        "airflow_provider_wan.sensors.wan",
        "airflow_provider_wan.triggers.wan",
    ],
)
def test_importing_adds_no_http_aws_or_media_stack(module: str) -> None:
    found = imports_of(module)

    added_roots = {name.split(".")[0] for name in found["added"]}
    assert module in found["added"]
    assert added_roots.isdisjoint(HEAVY)  # on Airflow 3.1 airflow.sdk itself already loads aiohttp
    assert not [name for name in found["loaded"] if name.startswith(OURS_HEAVY)]
