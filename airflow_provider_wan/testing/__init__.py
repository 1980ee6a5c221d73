"""A test kit for DAG authors: run DAGs offline against the Wan emulator and a local S3.

The pytest fixtures (``wan_airflow``, ``wan_emulator``, ``wan_connection``, ``wan_s3``) come with the
package through the ``pytest11`` entry point (:mod:`.pytest_plugin`). This module imports nothing but the
standard library: the plugin is loaded in every pytest run of every project that installs the package.

Airflow reads ``AIRFLOW_HOME`` and its database settings when it is first imported, so the isolated home
must be in place before that. :func:`isolate_airflow_home` does it; the ``wan_airflow`` fixture calls it
itself when nothing has imported Airflow yet. Test modules that import Airflow at their top (``from
airflow.sdk import DAG``) need it earlier: set ``wan_airflow_isolated_home = true`` in the pytest ini
options, or call ``isolate_airflow_home()`` at the top of ``conftest.py``.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_isolated: Path | None = None


class AirflowAlreadyImportedError(RuntimeError):
    """Airflow was imported before its home could be isolated: its settings are fixed by then."""


def isolate_airflow_home(home: str | os.PathLike[str] | None = None) -> Path:
    """Point ``AIRFLOW_HOME`` and the metadata DB at a private directory (a fresh temp dir by default).

    Sets the environment only (SQLite database ``<home>/airflow.db``, no example DAGs, DAGs folder
    ``<home>/dags``); the database is migrated by the ``wan_airflow`` fixture. Idempotent: later calls
    return the first home. Raises :class:`AirflowAlreadyImportedError` when Airflow is already imported,
    since Airflow would go on using the home it read then.
    """
    global _isolated
    if _isolated is not None:
        return _isolated
    if "airflow" in sys.modules:
        raise AirflowAlreadyImportedError(
            "Airflow was imported before the Wan test kit could give it an isolated AIRFLOW_HOME "
            f"(it uses {os.environ.get('AIRFLOW_HOME', '~/airflow')}; another pytest plugin, or code run "
            "before the kit's plugin, imported it). "
            "Set `wan_airflow_isolated_home = true` in your pytest ini options "
            "([tool.pytest.ini_options] in pyproject.toml), or call "
            "airflow_provider_wan.testing.isolate_airflow_home() at the top of conftest.py."
        )
    path = Path(home) if home is not None else Path(tempfile.mkdtemp(prefix="wan-airflow-home-"))
    (path / "dags").mkdir(parents=True, exist_ok=True)
    os.environ.update(
        {
            "AIRFLOW_HOME": str(path),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__DAGS_FOLDER": str(path / "dags"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{path / 'airflow.db'}",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    _isolated = path
    return path


def isolated_airflow_home() -> Path | None:
    """The home :func:`isolate_airflow_home` set up in this process, if any."""
    return _isolated
