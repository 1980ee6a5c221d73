"""The base of the media families' requests: the fields they share, the model rules they share, and
the ``input.media`` list of the wan2.7 protocol."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from airflow_provider_wan.api.base import WanRequest
from airflow_provider_wan.api.checks import check_duration, require_choice
from airflow_provider_wan.api.media import MediaInput, MediaRule
from airflow_provider_wan.api.media_models import MediaSpec, pixels_from_input
from airflow_provider_wan.api.models import check_audio
from airflow_provider_wan.api.request import OutputSpec
from airflow_provider_wan.exceptions import WanValidationError


@dataclass(frozen=True, kw_only=True)
class MediaRequest(WanRequest):
    """Fields every media family takes; each family adds its inputs and parameters."""

    model: str
    prompt: str | None = None
    negative_prompt: str | None = None
    duration: int | None = None
    watermark: bool | None = None
    seed: int | None = None

    PROMPT_REQUIRED: ClassVar[bool] = False

    @property
    def spec(self) -> MediaSpec | None:
        return super().spec

    def _check_model(self, spec: MediaSpec) -> list[str]:
        family = spec.family
        check_duration(self.duration, spec.durations, family)
        require_choice("resolution", getattr(self, "resolution", None), spec.resolutions, family)
        check_audio(getattr(self, "audio", None), spec, self.MODELS)
        shot_type = getattr(self, "shot_type", None)
        if shot_type is not None and not spec.shot_type:
            raise WanValidationError("shot_type", shot_type, "only wan2.6 models take it")
        return self._check_family(spec)

    def _check_family(self, spec: MediaSpec) -> list[str]:
        return []

    def output(self, image_size: tuple[int, int] | None = None) -> OutputSpec:
        """What a valid request produces; the aspect follows the input picture of ``image_size`` (first
        frame or first clip), the tier's 16:9 size when that is unknown. Families of fixed shape override."""
        spec = self._known_spec()
        resolution = getattr(self, "resolution", None) or str(spec.default_resolution)
        return self._output(pixels_from_input(resolution, image_size))

    def _output(self, size: tuple[int, int]) -> OutputSpec:
        spec = self._known_spec()
        return OutputSpec(*size, self.duration or spec.default_duration, spec.fps, self._has_audio(spec))

    def _known_spec(self) -> MediaSpec:
        spec = self.spec
        if spec is None:
            raise WanValidationError("model", self.model, f"one of {', '.join(sorted(self.MODELS))}")
        return spec


@dataclass(frozen=True)
class MediaItem:
    """One entry of ``input.media``: ``{"type", "url"[, "reference_voice"]}``."""

    type: Any
    url: Any
    reference_voice: Any = None

    def to_wire(self) -> dict[str, Any]:
        item = {"type": self.type, "url": self.url}
        return item if self.reference_voice is None else {**item, "reference_voice": self.reference_voice}

    @classmethod
    def from_wire(cls, item: Any) -> MediaItem:
        """An entry as sent; a bare URL string (one proxy's form) becomes an item without a type."""
        if isinstance(item, dict):
            return cls(item.get("type"), item.get("url"), item.get("reference_voice"))
        return cls(None, item)


@dataclass(frozen=True, kw_only=True)
class MediaListRequest(MediaRequest):
    """The wan2.7 protocol: every input is an entry of ``input.media`` whose ``type`` says its role."""

    media: tuple[MediaItem, ...] = ()

    ITEM_RULES: ClassVar[dict[str, MediaRule]]
    VOICE_RULE: ClassVar[MediaRule | None] = None  # `reference_voice` on reference items, where taken
    VOICE_TYPES: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def _decode_inputs(cls, inputs: dict[str, Any]) -> dict[str, Any]:
        media = inputs.get("media")
        return {"media": tuple(MediaItem.from_wire(i) for i in media)} if isinstance(media, list) else {}

    @property
    def types(self) -> list[Any]:
        return [item.type for item in self.media]

    def items_of(self, kind: str) -> list[MediaItem]:
        return [item for item in self.media if item.type == kind]

    def media_inputs(self) -> list[MediaInput]:
        inputs: list[MediaInput] = []
        if not isinstance(self.media, tuple):
            return inputs  # not a list of entries: refused naming `media` by the model-independent check
        for at, item in enumerate(self.media):
            kind = getattr(item, "type", None)
            rule = self.ITEM_RULES.get(kind) if isinstance(kind, str) else None
            if rule is not None:
                inputs.append(MediaInput(f"media[{at}].url", item.url, rule))
            if item.reference_voice is not None and self.VOICE_RULE is not None:
                inputs.append(
                    MediaInput(f"media[{at}].reference_voice", item.reference_voice, self.VOICE_RULE)
                )
        return inputs

    def _check_model_independent(self) -> list[str]:
        if not isinstance(self.media, tuple) or not self.media:
            raise WanValidationError(
                "media", self.media, f"a list of {{type, url}} entries, type one of {self._types}"
            )
        for at, item in enumerate(self.media):
            if not isinstance(item, MediaItem) or not isinstance(item.type, str) or not item.type:
                raise WanValidationError(
                    f"media[{at}].type", getattr(item, "type", item), f"one of {self._types}"
                )
        return []

    def _check_family(self, spec: MediaSpec) -> list[str]:
        for at, item in enumerate(self.media):
            if item.type not in self.ITEM_RULES:
                raise WanValidationError(
                    f"media[{at}].type", item.type, f"one of {self._types} for {spec.family}"
                )
            if item.reference_voice is not None and item.type not in self.VOICE_TYPES:
                allowed = (
                    f"only on {' or '.join(sorted(self.VOICE_TYPES))} entries"
                    if self.VOICE_TYPES
                    else f"not taken by {spec.family}"
                )
                raise WanValidationError(f"media[{at}].reference_voice", item.reference_voice, allowed)
        return self._check_media(spec)

    def _check_media(self, spec: MediaSpec) -> list[str]:
        return []

    @property
    def _types(self) -> str:
        return ", ".join(self.ITEM_RULES)
