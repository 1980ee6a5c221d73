"""What our modules add to the imports every Airflow process, DAG parse and pytest run already makes.

* The operator and sensor modules, over ``airflow.sdk``: every DAG file that uses them imports
  ``airflow.sdk`` and then the module (target: <= 30 ms added, and none of ``aiohttp``,
  ``boto3``/``botocore`` or ``av``).
* The pytest plugin, over ``pytest``: pytest loads it in every project that installs the package
  (target: <= 20 ms, and nothing beyond the standard library).
* ``get_provider_info``, over nothing: every Airflow process's providers manager calls it (target:
  nothing of Airflow, the contract module or any client).

Each run is a fresh interpreter that imports the baseline (timed), then the module (timed: what we add),
and lists the modules the second import loaded. Bytecode is cached in a private directory and warmed
first, as in an installed deployment (this venv is installed without .pyc files, and the environment
may forbid writing them). Runs of the modules are interleaved; medians are printed with the share of
the baseline, and the run fails if a target is missed.

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
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    baseline: str  # what is imported first, timed (empty: nothing)
    module: str  # then this, timed
    target_ms: float
    forbidden: tuple[str, ...]  # top-level packages it must not bring in ("*": anything not stdlib)


DAG_PARSE_HEAVY = ("aiohttp", "boto3", "botocore", "av")
CASES = (
    Case("airflow.sdk", "airflow_provider_wan.operators.wan", 30, DAG_PARSE_HEAVY),
    Case("airflow.sdk", "airflow_provider_wan.sensors.wan", 30, DAG_PARSE_HEAVY),
    Case("pytest", "airflow_provider_wan.testing.pytest_plugin", 20, ("*",)),
    Case("", "airflow_provider_wan.get_provider_info", 20, ("*",)),
)

PROBE = """
import json, sys, time
started = time.perf_counter()
{baseline_import}
baseline = time.perf_counter() - started
before = set(sys.modules)
started = time.perf_counter()
import {module}
added = time.perf_counter() - started
print(json.dumps({{"baseline": baseline, "added": added, "modules": sorted(set(sys.modules) - before)}}))
"""


def probe(case: Case, env: dict[str, str]) -> dict[str, object]:
    code = PROBE.format(
        baseline_import=f"import {case.baseline}" if case.baseline else "", module=case.module
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def offending(case: Case, loaded: list[str]) -> list[str]:
    roots = {name.split(".")[0] for name in loaded} - {"airflow_provider_wan"}
    if case.forbidden == ("*",):
        return sorted(roots - set(sys.stdlib_module_names))
    return sorted(roots & set(case.forbidden))


def main(runs: int) -> int:
    cache = tempfile.mkdtemp(prefix="wan-import-cost-pycache-")
    env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    for case in CASES:
        probe(case, env)  # writes the bytecode cache; not counted
    samples: dict[Case, list[dict[str, object]]] = {case: [] for case in CASES}
    for _ in range(runs):
        for case in CASES:
            samples[case].append(probe(case, env))
    failed = False
    for case, found in samples.items():
        baseline = statistics.median(float(s["baseline"]) for s in found)  # type: ignore[arg-type]
        added = statistics.median(float(s["added"]) for s in found)  # type: ignore[arg-type]
        loaded = sorted({name for s in found for name in s["modules"]})  # type: ignore[attr-defined]
        bad = offending(case, loaded)
        ours = [name for name in loaded if name.startswith("airflow_provider_wan")]
        print(f"{case.module}: median of {runs} fresh interpreters")
        if case.baseline:
            print(f"  import {case.baseline} (baseline): {baseline * 1000:.0f} ms")
        share = f" ({added / baseline:.1%} of the baseline)" if case.baseline else ""
        print(
            f"  then import {case.module}: +{added * 1000:.1f} ms{share}; target <= {case.target_ms:.0f} ms"
        )
        print(f"  modules it adds: {len(loaded)} ({len(ours)} of ours: {', '.join(ours)})")
        rule = "outside the standard library" if case.forbidden == ("*",) else ", ".join(case.forbidden)
        print(f"  forbidden ({rule}) among them: {', '.join(bad) or 'none'}")
        failed |= bool(bad) or added * 1000 > case.target_ms
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    sys.exit(main(parser.parse_args().runs))
