"""What our modules add to the imports every Airflow process, DAG parse and pytest run already makes.

* The operator and sensor modules, over ``airflow.sdk``: every DAG file that uses them imports
  ``airflow.sdk`` and then the module (target: <= 30 ms added, and none of ``aiohttp``,
  ``boto3``/``botocore`` or ``av``).
* The pytest plugin, over ``pytest``: pytest loads it in every project that installs the package
  (target: <= 20 ms, and nothing beyond the standard library).
* ``get_provider_info``, over nothing: every Airflow process's providers manager calls it (target:
  nothing of Airflow, the contract module or any client).

Each run is a fresh interpreter that imports the baseline (timed), then the module (timed: what we add),
and lists the modules the second import loaded. Each is measured twice: with bytecode cached in a
private directory and warmed first (an installed deployment), and with no bytecode at all (every source
compiled, as where ``PYTHONDONTWRITEBYTECODE`` is set and nothing was compiled at install). Runs are
interleaved; medians are printed with the ratio of what the module adds to its baseline, both measured
in the same interpreters, and the run fails if a target is missed.

    .venv/bin/python bench/import_cost.py [--runs 9]
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


def environments() -> dict[str, dict[str, str]]:
    """Bytecode cached (in a private directory, written on the first run) and none at all (an empty
    private directory that is never written: Python then reads no ``.pyc`` anywhere)."""
    cached = {**os.environ, "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="wan-import-cost-pyc-")}
    cached.pop("PYTHONDONTWRITEBYTECODE", None)
    bare = {**os.environ, "PYTHONPYCACHEPREFIX": tempfile.mkdtemp(prefix="wan-import-cost-none-")}
    bare["PYTHONDONTWRITEBYTECODE"] = "1"
    return {"cached .pyc": cached, "no .pyc": bare}


def report(case: Case, mode: str, found: list[dict[str, object]]) -> bool:
    """Print one case's medians in one mode; whether it missed its target."""
    baseline = statistics.median(float(s["baseline"]) for s in found)  # type: ignore[arg-type]
    added = statistics.median(float(s["added"]) for s in found)  # type: ignore[arg-type]
    loaded = sorted({name for s in found for name in s["modules"]})  # type: ignore[attr-defined]
    bad = offending(case, loaded)
    ours = [name for name in loaded if name.startswith("airflow_provider_wan")]
    print(f"{case.module}, {mode}: median of {len(found)} fresh interpreters")
    if case.baseline:
        print(f"  import {case.baseline} (baseline): {baseline * 1000:.0f} ms")
    ratio = f" (ratio {added / baseline:.3f} of the baseline)" if case.baseline else ""
    print(f"  then import {case.module}: +{added * 1000:.1f} ms{ratio}; target <= {case.target_ms:.0f} ms")
    print(f"  modules it adds: {len(loaded)} ({len(ours)} of ours)")
    rule = "outside the standard library" if case.forbidden == ("*",) else ", ".join(case.forbidden)
    print(f"  forbidden ({rule}) among them: {', '.join(bad) or 'none'}")
    return bool(bad) or added * 1000 > case.target_ms


def main(runs: int) -> int:
    modes = environments()
    for case in CASES:
        probe(case, modes["cached .pyc"])  # writes the bytecode cache; not counted
    samples: dict[tuple[Case, str], list[dict[str, object]]] = {}
    for _ in range(runs):
        for case in CASES:
            for mode, env in modes.items():
                samples.setdefault((case, mode), []).append(probe(case, env))
    failed = [report(case, mode, found) for (case, mode), found in samples.items()]
    return 1 if any(failed) else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    sys.exit(main(parser.parse_args().runs))
