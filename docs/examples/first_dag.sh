#!/usr/bin/env bash
# The README's first run against the real service (tests/docs/test_first_dag.py runs these lines, the
# connection read back as the provider reads it, the DAG against the emulator).
set -euo pipefail

# [START readme_connection]
# Your Model Studio key and its region; prices per second for max_cost (made-up figures: put yours).
export AIRFLOW_CONN_WAN_DEFAULT='{"conn_type": "wan", "password": "sk-...", "extra": {
    "region": "ap-southeast-1",
    "prices": {"wan2.6-t2v": {"currency": "USD", "720P": 0.10, "1080P": 0.15}}}}'
export AIRFLOW_CONN_AWS_DEFAULT='aws://'  # or any AWS connection that may write to the bucket
# [END readme_connection]

# [START readme_first_run]
airflow dags test my_first_video
# [END readme_first_run]
