"""The JSON examples of the vendor documents in ../shared/seeds, pulled out of their flattened text."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

SEEDS = Path(__file__).resolve().parents[3] / "shared" / "seeds"
_ELLIPSIS_LINE = re.compile(r"^\s*\.\.\.\s*,?\s*$", re.MULTILINE)
_TRAILING_COMMA = re.compile(r",(\s*[}\]])")


def _tolerant_load(text: str) -> Any:
    """Decode one JSON value at the start of ``text``, forgiving the docs' ``...`` elisions."""
    decoder = json.JSONDecoder()
    try:
        return decoder.raw_decode(text)[0]
    except json.JSONDecodeError:
        pass
    end = _matching_brace(text)
    if end is None:
        return None
    cleaned = _TRAILING_COMMA.sub(r"\1", _ELLIPSIS_LINE.sub("", text[: end + 1]))
    try:
        return json.loads(cleaned)
    except json.JSONDecodeError:
        return None


def _matching_brace(text: str) -> int | None:
    depth, in_string, escaped = 0, False, False
    for index, char in enumerate(text):
        if in_string:
            escaped = not escaped and char == "\\"
            if char == '"' and not escaped:
                in_string = False
            elif char != "\\":
                escaped = False
            continue
        if char == '"':
            in_string = True
        elif char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth == 0:
                return index
    return None


def json_examples(path: Path) -> list[dict[str, Any]]:
    """Every JSON object in a seed that starts a line or follows ``-d '``."""
    text = path.read_text(encoding="utf-8")
    starts = [m.start() for m in re.finditer(r"(?m)^\s*\{\s*$", text)]
    starts += [m.end() for m in re.finditer(r"-d '", text)]
    found = []
    for start in sorted(set(starts)):
        value = _tolerant_load(text[start:].lstrip())
        if isinstance(value, dict):
            found.append(value)
    return found


def answers() -> list[tuple[str, dict[str, Any]]]:
    """(seed file, body) of every answer example: the objects with an ``output``."""
    return [
        (path.name, body)
        for path in sorted(SEEDS.glob("*.txt"))
        for body in json_examples(path)
        if isinstance(body.get("output"), dict)
    ]


def create_bodies() -> list[tuple[str, dict[str, Any]]]:
    """(seed file, body) of every create-call body in the curl examples."""
    return [
        (path.name, body)
        for path in sorted(SEEDS.glob("*.txt"))
        for body in json_examples(path)
        if "model" in body and "input" in body
    ]
