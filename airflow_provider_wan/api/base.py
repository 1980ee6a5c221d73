"""What every create request shares, whatever its family: fields to body and back, the validation
sequence, the model table it is judged by, its create path and how its usage is billed.

A family is a frozen dataclass that mixes in :class:`WanRequest`, names its wire fields, model table and
path, and adds only its own rules in :meth:`~WanRequest._check_model_independent` and
:meth:`~WanRequest._check_model`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import Any, ClassVar, Protocol, TypeVar

from airflow_provider_wan.api.checks import check_common, require_text, require_type
from airflow_provider_wan.api.endpoints import CREATE_PATH
from airflow_provider_wan.api.media import MediaInput, check_inputs, needs_oss_resolve
from airflow_provider_wan.api.models import (
    DISPUTED,
    BilledSound,
    makes_sound,
    resolve_in,
    unknown_model_warning,
)
from airflow_provider_wan.api.responses import parse_number
from airflow_provider_wan.exceptions import WanValidationError

Request = TypeVar("Request", bound="WanRequest")
_INPUT_PARAMETER = re.compile(r"^(?P<field>\w+)(?:\[(?P<index>\d+)\](?:\.(?P<attribute>\w+))?)?$")


class FamilySpec(Protocol):
    """What the hooks and the emulator read from any family's model spec."""

    @property
    def family(self) -> str: ...
    @property
    def prompt_limit(self) -> int: ...
    @property
    def sound(self) -> str: ...
    @property
    def fps(self) -> int: ...
    @property
    def max_running(self) -> int: ...
    @property
    def creates_per_second(self) -> int: ...


class WanRequest:
    """Mixin of every create request type; ``None`` in a field means "leave to the service"."""

    INPUT_FIELDS: ClassVar[tuple[str, ...]]
    PARAMETER_FIELDS: ClassVar[tuple[str, ...]]
    MODELS: ClassVar[Mapping[str, Any]]
    CREATE_PATH: ClassVar[str] = CREATE_PATH
    PROMPT_REQUIRED: ClassVar[bool] = True

    model: str
    prompt: str | None

    @property
    def spec(self) -> Any:
        """The model family's spec from this type's table (dated snapshots included), None if unknown."""
        return resolve_in(self.model, self.MODELS) if isinstance(self.model, str) else None

    @property
    def create_path(self) -> str:
        return self.CREATE_PATH

    def media_inputs(self) -> list[MediaInput]:
        """Every input URL with the rule it must meet (what an ``s3://`` input must be checked against)."""
        return []

    def with_inputs(self: Request, urls: Mapping[str, str]) -> Request:
        """A copy with input URLs replaced, keyed by :meth:`media_inputs` parameter (``img_url``,
        ``reference_urls[1]``, ``media[0].url``): how a presigned URL takes an ``s3://`` URI's place."""
        changes: dict[str, Any] = {}
        for parameter, url in urls.items():
            match = _INPUT_PARAMETER.match(parameter)
            if match is None or parameter not in {item.parameter for item in self.media_inputs()}:
                raise WanValidationError("inputs", parameter, "a parameter named by media_inputs()")
            name, index, attribute = match["field"], match["index"], match["attribute"]
            if index is None:
                changes[name] = url
                continue
            items = list(changes.get(name, getattr(self, name)))
            at = int(index)
            items[at] = replace(items[at], **{attribute: url}) if attribute else url
            changes[name] = tuple(items)
        return replace(self, **changes)  # type: ignore[type-var]

    @property
    def needs_oss_resolve(self) -> bool:
        """Whether the create call must send ``X-DashScope-OssResourceResolve: enable``."""
        return needs_oss_resolve(self.media_inputs())

    def to_body(self) -> dict[str, Any]:
        """The exact JSON body of the create call, leaving out every field left unset."""
        return {
            "model": self.model,
            "input": self._pick(self.INPUT_FIELDS),
            "parameters": self._pick(self.PARAMETER_FIELDS),
        }

    @classmethod
    def from_body(cls: type[Request], body: Any) -> Request:
        """The request a create body describes (used by the emulator); shape errors raise."""
        if not isinstance(body, dict):
            raise WanValidationError("body", body, "a JSON object with model, input and parameters")
        inputs = body.get("input") or {}
        parameters = body.get("parameters") or {}
        if not isinstance(inputs, dict) or not isinstance(parameters, dict):
            raise WanValidationError("body", body, "input and parameters must be JSON objects")
        known = {f.name for f in fields(cls)}  # type: ignore[arg-type]
        values = {k: v for k, v in {**parameters, **inputs}.items() if k in known}
        values.update(cls._decode_inputs(inputs))
        return cls(model=body.get("model"), **{"prompt": None, **values})  # type: ignore[call-arg]

    def validate(self) -> list[str]:
        """Refuse what the contract rules out (raises :class:`WanValidationError`); return warnings."""
        require_text("model", self.model)
        if self.PROMPT_REQUIRED:
            require_text("prompt", self.prompt)
        elif self.prompt is not None:
            require_type("prompt", self.prompt, str, "a string")
        check_common(self)
        check_inputs(self.media_inputs())
        warnings = self._check_model_independent()
        spec = self.spec
        if spec is None:
            return [unknown_model_warning(self.model, self.MODELS), *warnings]
        warnings += self._check_model(spec)
        if self.prompt and len(self.prompt) > spec.prompt_limit:
            warnings.append(
                f"prompt has {len(self.prompt)} characters; {spec.family} reads at most "
                f"{spec.prompt_limit} and the service truncates the rest."
            )
        return warnings

    def billed_seconds(self, usage: Any) -> float | None:
        """Seconds a finished task of this request is billed for (see :func:`billed_seconds`)."""
        return billed_seconds(usage)

    def billed_sound(self) -> BilledSound:
        """The sound a successful task of this (valid) request is billed for: the sound it makes, not
        known where the vendor's pages disagree on it or the model is unknown."""
        audio = getattr(self, "audio", None)
        spec = self.spec
        if spec is None:
            if audio is True:
                return BilledSound(True)  # billed only if the model makes sound
            shown = "audio not set" if audio is None else f"audio={audio!r}"
            return BilledSound(None, f"{shown}: {self.model!r} is a model this provider does not know")
        has_audio = self._has_audio(spec)
        if not has_audio and spec.sound == DISPUTED:
            return BilledSound(
                None,
                f"audio=False: the vendor's older pages make {spec.family} silent, its newer ones say "
                "only the wan2.1 and wan2.2 models make silent videos",
            )
        return BilledSound(has_audio)

    def _check_model_independent(self) -> list[str]:
        return []

    def _check_model(self, spec: Any) -> list[str]:
        return []

    def _has_audio(self, spec: Any) -> bool:
        """Whether a valid request of this family, of the model ``spec``, makes a video with sound."""
        return makes_sound(spec.sound, getattr(self, "audio", None))

    @classmethod
    def _decode_inputs(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        """Fields whose wire form differs from the field (lists of media items), from ``input``."""
        return {}

    def _pick(self, names: tuple[str, ...]) -> dict[str, Any]:
        values = {name: getattr(self, name) for name in names}
        return {name: _wire(value) for name, value in values.items() if value not in (None, ())}


def _wire(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_wire(item) for item in value]
    to_wire = getattr(value, "to_wire", None)
    return to_wire() if callable(to_wire) else value


def billed_seconds(usage: Any) -> float | None:
    """Seconds a finished task is billed for, whatever its family: ``usage.duration`` where the model
    gives it (wan2.2 on; on reference-to-video it is the capped input seconds plus the output's), else
    ``video_duration`` (wan2.1, kf2v), else ``input_video_duration`` plus ``output_video_duration``."""
    if not isinstance(usage, dict):
        return None
    for key in ("duration", "video_duration"):
        value = parse_number(usage.get(key))
        if value is not None:
            return value
    parts = [parse_number(usage.get(key)) for key in ("input_video_duration", "output_video_duration")]
    return sum(p for p in parts if p is not None) if any(p is not None for p in parts) else None
