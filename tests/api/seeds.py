"""The JSON examples of the five vendor seed documents, kept in the repository as test data.

``data/seeds/<seed>.json`` holds, per seed document, its answer examples (the objects with an
``output``) and the create-call bodies of its curl examples, copied verbatim (the docs' ``...`` elisions
dropped), so the tests need nothing outside the repository.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DATA = Path(__file__).resolve().parent / "data" / "seeds"


def _seed_files() -> list[tuple[str, dict[str, Any]]]:
    return [(path.stem, json.loads(path.read_text(encoding="utf-8"))) for path in sorted(DATA.glob("*.json"))]


def answers() -> list[tuple[str, dict[str, Any]]]:
    """(seed, body) of every answer example."""
    return [(name, body) for name, seed in _seed_files() for body in seed["answers"]]


def create_bodies() -> list[tuple[str, dict[str, Any]]]:
    """(seed, body) of every create-call body in the curl examples."""
    return [(name, body) for name, seed in _seed_files() for body in seed["create_bodies"]]
