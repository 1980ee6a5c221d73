"""An operator's request fields as the API wants them: which are still templates, and rendered text
read back as numbers, booleans, lists and media items."""

from __future__ import annotations

import ast
import json
import re
from dataclasses import MISSING, fields
from typing import Any

from airflow_provider_wan.api import REQUEST_TYPES, MediaItem, WanRequest, WanValidationError

_INT_FIELDS = frozenset({"duration", "seed"})
_BOOL_FIELDS = frozenset({"audio", "prompt_extend", "watermark"})
_TEMPLATE_MARKS = ("{{", "{%", "{#")
_MEDIA_ITEM_KEYS = frozenset({"type", "url", "reference_voice"})
_ROOT = re.compile(r"^\w+")


def request_fields(*request_types: type[WanRequest]) -> tuple[str, ...]:
    """Every field of the request types but ``model``, in order: the operator's request arguments."""
    names: dict[str, None] = {}
    for kind in request_types:
        names.update((field.name, None) for field in fields(kind) if field.name != "model")  # type: ignore[arg-type]
    return tuple(names)


def parameter_root(parameter: str) -> str:
    """The argument a validation error's parameter belongs to: ``media`` of ``media[0].url``."""
    match = _ROOT.match(parameter)
    return match[0] if match else parameter


def is_set(value: Any) -> bool:
    return value is not None and value != () and value != []


def is_templated(value: Any) -> bool:
    """A value only known at run time: a Jinja string, or an XComArg or other lazy object, anywhere in
    a list, dict or media item."""
    if isinstance(value, str):
        return any(mark in value for mark in _TEMPLATE_MARKS)
    if isinstance(value, (list, tuple)):
        return any(is_templated(item) for item in value)
    if isinstance(value, dict):
        return any(is_templated(item) for item in value.values())
    if isinstance(value, MediaItem):
        return any(is_templated(item) for item in (value.type, value.url, value.reference_voice))
    return value is not None and not isinstance(value, (bool, int, float))


def coerce(name: str, value: Any) -> Any:
    """Rendered templates are strings: read ``"5"`` as 5, ``"true"`` as True and ``"['a', 'b']"`` as a
    list where the API wants them; lists become tuples, media entries given as dicts media items."""
    if isinstance(value, str):
        text = value.strip()
        if name in _INT_FIELDS and re.fullmatch(r"-?\d+", text):
            return int(text)
        if name in _BOOL_FIELDS and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if name in _LIST_FIELDS and text.startswith("["):
            value = _literal(name, text)
    if name in _LIST_FIELDS and (value is None or isinstance(value, list)):
        value = tuple(value or ())
    if name == "media" and isinstance(value, tuple):
        return tuple(_media_item(f"media[{at}]", item) for at, item in enumerate(value))
    return value


def _literal(name: str, text: str) -> Any:
    """A list rendered to text: JSON (``xcom_pull`` of a JSON value) or a Python literal (Jinja's own)."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        raise WanValidationError(name, text, "a list (rendered as a JSON or Python list)") from None


def _media_item(parameter: str, item: Any) -> Any:
    if not isinstance(item, dict):
        return item
    if not _MEDIA_ITEM_KEYS.issuperset(item):
        raise WanValidationError(parameter, item, "a dict of type, url and (optional) reference_voice")
    return MediaItem(item.get("type"), item.get("url"), item.get("reference_voice"))


def _list_field_names() -> frozenset[str]:
    """Fields whose value is a list (their dataclass default is the empty tuple)."""
    return frozenset(
        field.name
        for kind in REQUEST_TYPES
        for field in fields(kind)  # type: ignore[arg-type]
        if field.default is not MISSING and field.default == ()
    )


_LIST_FIELDS = _list_field_names()
