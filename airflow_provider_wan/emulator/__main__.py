"""``python -m airflow_provider_wan.emulator``: the ``wan-emulator`` command."""

from __future__ import annotations

from airflow_provider_wan.emulator.cli import main

raise SystemExit(main())
