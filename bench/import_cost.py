"""What importing the operator (and sensor) module adds to DAG parsing, over ``airflow.sdk`` itself.

Every DAG file that uses the operator imports ``airflow.sdk`` and then the operator module. Each run is
a fresh interpreter that imports ``airflow.sdk`` (timed: the baseline), then the module (timed: what
we add), and lists the modules the second import loaded. Bytecode is cached in a private directory and
warmed first, as in an installed deployment (this venv is installed without .pyc files, and the
environment may forbid writing them). Runs for the two modules are interleaved; the medians are
printed with their ratio to the baseline (target: <= 30 ms added), and the run fails if the module
brings in ``aiohttp``, ``boto3``/``botocore`` or ``av``.

    .venv/bin/python bench/import_cost.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

MODULES = ("airflow_provider_wan.operators.wan", "airflow_provider_wan.sensors.wan")
HEAVY = ("aiohttp", "boto3", "botocore", "av")

PROBE = """
import json, sys, time
started = time.perf_counter()
import airflow.sdk
sdk = time.perf_counter() - started
before = set(sys.modules)
started = time.perf_counter()
import {module}
added = time.perf_counter() - started
print(json.dumps({{"sdk": sdk, "added": added, "modules": sorted(set(sys.modules) - before)}}))
"""


def probe(module: str, env: dict[str, str]) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main(runs: int) -> int:
    cache = tempfile.mkdtemp(prefix="wan-import-cost-pycache-")
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for module in MODULES:
        probe(module, env)  # writes the bytecode cache; not counted
    samples: dict[str, list[dict[str, object]]] = {module: [] for module in MODULES}
    for _ in range(runs):
        for module in MODULES:
            samples[module].append(probe(module, env))
    failed = False
    for module, found in samples.items():
        sdk = statistics.median(float(s["sdk"]) for s in found)  # type: ignore[arg-type]
        added = statistics.median(float(s["added"]) for s in found)  # type: ignore[arg-type]
        loaded = sorted({name for s in found for name in s["modules"]})  # type: ignore[attr-defined]
        heavy = sorted({name for name in loaded if name.split(".")[0] in HEAVY})
        ours = [name for name in loaded if name.startswith("airflow_provider_wan")]
        print(f"{module}: median of {runs} fresh interpreters")
        print(f"  import airflow.sdk (baseline): {sdk * 1000:.0f} ms")
        share = f"{added / sdk:.1%} of the baseline"
        print(f"  then import {module}: +{added * 1000:.1f} ms ({share}; target <= 30 ms)")
        print(f"  modules it adds: {len(loaded)} ({len(ours)} of ours: {', '.join(ours)})")
        print(f"  aiohttp, boto3, botocore, av among them: {', '.join(heavy) or 'none'}")
        failed |= bool(heavy) or added > 0.030
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    sys.exit(main(parser.parse_args().runs))
