#!/usr/bin/env bash
# The connection page's forms of a `wan` connection from the environment. tests/docs/test_connections.py
# runs each block and reads the connection back as the provider does (the host each one calls).
set -euo pipefail

# [START connection_json]
export AIRFLOW_CONN_WAN_DEFAULT='{"conn_type": "wan", "password": "sk-...", "extra": {"region": "cn-beijing"}}'
# [END connection_json]

# [START connection_workspace]
export AIRFLOW_CONN_WAN_DEFAULT='{"conn_type": "wan", "password": "sk-...", "extra": {"region": "Frankfurt", "workspace_id": "ws-123"}}'
# [END connection_workspace]

# [START connection_uri]
export AIRFLOW_CONN_WAN_DEFAULT='wan://:sk-...@/?region=Singapore'
# [END connection_uri]

# [START connection_emulator]
export AIRFLOW_CONN_WAN_DEFAULT='wan://http://:sk-emulator@127.0.0.1:8765/api/v1'
# [END connection_emulator]
