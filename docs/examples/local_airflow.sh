#!/usr/bin/env bash
# A real Airflow with the Wan provider on this machine, against the Wan emulator and a local S3 (moto):
# nothing leaves the machine and nothing is billed. Needs `pip install "airflow-provider-wan[testing]"`.
#
#   bash local_airflow.sh standalone   # `airflow standalone`: every component in one command
#   bash local_airflow.sh separate     # each component its own process, as in production
#
# Then, in another shell with the same settings: the `howto_local_trigger` lines below.
# tests/docs/test_local_airflow.py runs both modes and the trigger lines, and checks the video in S3.
set -euo pipefail
mode="${1:-standalone}"

# [START howto_local_ports]
API_PORT="${API_PORT:-8090}"  # Airflow's API server and UI (8080 is often taken)
WAN_PORT="${WAN_PORT:-8765}"  # the Wan emulator
S3_PORT="${S3_PORT:-5055}"  # moto's S3 server
# [END howto_local_ports]

# [START howto_local_settings]
export AIRFLOW_HOME="${AIRFLOW_HOME:-$PWD/airflow-home}"
export AIRFLOW__CORE__DAGS_FOLDER="${DAGS_FOLDER:-$PWD/dags}"  # your DAG files
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export AIRFLOW__API__PORT="$API_PORT"
export AIRFLOW__API__BASE_URL="http://localhost:$API_PORT"
# Where tasks reach the API server. Unset, it is [api] base_url's, or port 8080 when base_url is unset,
# whatever [api] port says: a task then fails to start. Set it whenever the port changes.
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="http://localhost:$API_PORT/execution/"
# Airflow 3.1 leaves the token issuer unset, which newer PyJWT refuses: every task would fail to start.
export AIRFLOW__API_AUTH__JWT_ISSUER=local-airflow
# The provider's connections, to the emulator (any key it was started with) and to moto's S3.
export AIRFLOW_CONN_WAN_DEFAULT="{\"conn_type\": \"wan\", \"host\": \"http://127.0.0.1:$WAN_PORT/api/v1\", \"password\": \"sk-local\"}"
export AIRFLOW_CONN_AWS_DEFAULT="{\"conn_type\": \"aws\", \"login\": \"testing\", \"password\": \"testing\", \"extra\": {\"endpoint_url\": \"http://127.0.0.1:$S3_PORT\", \"region_name\": \"us-east-1\"}}"
# [END howto_local_settings]

if [ "$mode" != trigger ]; then
    # [START howto_local_services]
    wan-emulator --port "$WAN_PORT" --api-key sk-local --task-seconds 20 &  # videos ready 20 s after submission
    moto_server -H 127.0.0.1 -p "$S3_PORT" &
    trap 'kill $(jobs -p) 2>/dev/null' EXIT  # stop them with Airflow
    python - "$S3_PORT" <<'PY'  # the bucket the example DAGs write to, once moto answers
import sys, time, boto3

s3 = boto3.client("s3", endpoint_url=f"http://127.0.0.1:{sys.argv[1]}", region_name="us-east-1",
                  aws_access_key_id="testing", aws_secret_access_key="testing")
for _ in range(100):
    try:
        s3.create_bucket(Bucket="wan-videos")
        break
    except Exception:
        time.sleep(0.2)
PY
    # [END howto_local_services]
fi

case "$mode" in
standalone)
    # [START howto_local_standalone]
    airflow standalone  # migrates the database, starts every component; Ctrl-C stops them
    # [END howto_local_standalone]
    ;;
separate)
    # [START howto_local_separate]
    airflow db migrate
    airflow api-server --port "$API_PORT" &
    airflow scheduler &
    airflow dag-processor &
    airflow triggerer &  # deferrable tasks wait here: without a triggerer they wait forever
    wait
    # [END howto_local_separate]
    ;;
trigger)
    # [START howto_local_trigger]
    airflow dags unpause example_wan_text_to_video  # new DAGs start paused: a run of a paused DAG waits
    airflow dags trigger example_wan_text_to_video --conf '{"duration": 5}'
    # [END howto_local_trigger]
    ;;
*)
    echo "usage: $0 standalone|separate|trigger" >&2
    exit 2
    ;;
esac
