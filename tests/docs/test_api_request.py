"""The hooks page's look at the API contract module (``docs/examples/api_request.py``), run as a script."""

from __future__ import annotations

import subprocess
import sys

from tests.docs.markers import EXAMPLES, region


def test_the_example_holds_and_prints_the_refusal_its_comment_shows() -> None:
    script = EXAMPLES / "api_request.py"
    run = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60, check=False
    )

    assert run.returncode == 0, run.stderr
    printed = run.stdout.strip()
    assert printed == "Invalid duration=20: a whole number of seconds from 2 to 15 for wan2.7-t2v"
    assert f"print(error)  # {printed}" in region(script, "howto_api_request")
