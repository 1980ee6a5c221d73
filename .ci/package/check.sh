#!/usr/bin/env bash
# Packaging check: build the sdist and the wheel (the wheel from the sdist), check their metadata with
# twine, install the built wheel in a clean virtual environment outside the repository, and there run
# the first example DAG against the emulator with the pytest kit the wheel ships
# (.ci/package/test_installed_wheel.py). Proves the wheel carries everything: py.typed, the emulator,
# the pytest plugin and provider entry points, the wan-emulator command.
#   make package-check   (or VENV=.venv bash .ci/package/check.sh [AIRFLOW_VERSION]: that venv's uv and twine)
set -euo pipefail
cd "$(dirname "$0")/../.."
AIRFLOW_VERSION="${1:-3.3.2}"
VENV="${VENV:-.venv}"
UV="$VENV/bin/uv"

work="$(mktemp -d -t wan-package-check-XXXXXX)"
trap 'rm -rf "$work"' EXIT

echo "== building sdist and wheel"
"$UV" build --quiet --out-dir "$work/dist" .
ls -l "$work/dist"
"$VENV/bin/twine" check --strict "$work"/dist/*

echo "== installing the wheel in a clean virtual environment (Airflow $AIRFLOW_VERSION)"
wheel="$(ls "$work"/dist/*.whl)"
"$UV" venv --quiet --python "$(command -v python3)" "$work/venv"
"$UV" pip install --quiet --python "$work/venv/bin/python" "${wheel}[testing]" \
    "apache-airflow==$AIRFLOW_VERSION" pytest

echo "== the first example DAG, run from the installed wheel"
mkdir -p "$work/project/dags"
cp example_dags/example_wan_text_to_video.py "$work/project/dags/"
cp .ci/package/test_installed_wheel.py "$work/project/"
printf '[pytest]\nwan_airflow_isolated_home = true\n' > "$work/project/pytest.ini"
cd "$work/project"
env -u PYTHONPATH "$work/venv/bin/python" -m pytest -q -p no:cacheprovider test_installed_wheel.py
