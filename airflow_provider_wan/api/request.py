"""The create-task request: its fields, its validation against the contract, and its JSON body."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any
from urllib.parse import urlsplit

from airflow_provider_wan.api.errors import WanValidationError
from airflow_provider_wan.api.models import (
    MODELS,
    RATIOS,
    RESOLUTIONS,
    WAN27_PIXELS,
    ModelSpec,
    nearest_model,
    parse_pixels,
    resolve_model,
)

MAX_NEGATIVE_PROMPT = 500
MAX_SEED = 2_147_483_647
AUDIO_SUFFIXES = (".wav", ".mp3")
AUDIO_SCHEMES = ("http", "https", "oss")
_SIZE_FORMAT = re.compile(r"^[1-9][0-9]{1,4}\*[1-9][0-9]{1,4}$")

INPUT_FIELDS = ("prompt", "negative_prompt", "audio_url")
PARAMETER_FIELDS = (
    "size",
    "resolution",
    "ratio",
    "duration",
    "shot_type",
    "prompt_extend",
    "watermark",
    "seed",
    "audio",
)


@dataclass(frozen=True)
class OutputSpec:
    """What a successful task produces for a request: pixels, length, frame rate and sound."""

    width: int
    height: int
    duration: int
    fps: int
    has_audio: bool


@dataclass(frozen=True)
class VideoRequest:
    """One text-to-video task as the user asked for it; ``None`` means "leave to the service"."""

    model: str
    prompt: str
    negative_prompt: str | None = None
    audio_url: str | None = None
    audio: bool | None = None
    size: str | None = None
    resolution: str | None = None
    ratio: str | None = None
    duration: int | None = None
    shot_type: str | None = None
    prompt_extend: bool | None = None
    watermark: bool | None = None
    seed: int | None = None

    @property
    def spec(self) -> ModelSpec | None:
        return resolve_model(self.model)

    def to_body(self) -> dict[str, Any]:
        """The exact JSON body of the create call, leaving out every field left unset."""
        values = asdict(self)
        return {
            "model": self.model,
            "input": {k: values[k] for k in INPUT_FIELDS if values[k] is not None},
            "parameters": {k: values[k] for k in PARAMETER_FIELDS if values[k] is not None},
        }

    @classmethod
    def from_body(cls, body: Any) -> VideoRequest:
        """The request a create body describes (used by the emulator); shape errors raise."""
        if not isinstance(body, dict):
            raise WanValidationError("body", body, "a JSON object with model, input and parameters")
        inputs = body.get("input") or {}
        parameters = body.get("parameters") or {}
        if not isinstance(inputs, dict) or not isinstance(parameters, dict):
            raise WanValidationError("body", body, "input and parameters must be JSON objects")
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in {**parameters, **inputs}.items() if k in known}
        return cls(model=body.get("model"), **{"prompt": None, **values})  # type: ignore[arg-type]

    def validate(self) -> list[str]:
        """Refuse what the contract rules out (raises :class:`WanValidationError`); return warnings."""
        warnings: list[str] = []
        _require_text("model", self.model)
        _require_text("prompt", self.prompt)
        self._check_model_independent()
        spec = self.spec
        if spec is None:
            nearest = nearest_model(self.model)
            guess = f" (did you mean {nearest}?)" if nearest else ""
            warnings.append(
                f"Unknown model {self.model!r}{guess}: only the model-independent checks were made, and "
                f"the request is sent as it is. Known models: {', '.join(sorted(MODELS))}."
            )
            return warnings
        self._check_model(spec)
        if len(self.prompt) > spec.prompt_limit:
            warnings.append(
                f"prompt has {len(self.prompt)} characters; {spec.family} reads at most "
                f"{spec.prompt_limit} and the service truncates the rest."
            )
        return warnings

    def _check_model_independent(self) -> None:
        if self.negative_prompt is not None:
            _require_type("negative_prompt", self.negative_prompt, str, "a string")
            if len(self.negative_prompt) > MAX_NEGATIVE_PROMPT:
                raise WanValidationError(
                    "negative_prompt",
                    self.negative_prompt,
                    f"at most {MAX_NEGATIVE_PROMPT} characters (got {len(self.negative_prompt)})",
                )
        if self.audio_url is not None:
            _check_audio_url(self.audio_url)
        for name in ("audio", "prompt_extend", "watermark"):
            value = getattr(self, name)
            if value is not None:
                _require_type(name, value, bool, "true or false")
        if self.seed is not None:
            _require_int("seed", self.seed, f"an integer from 0 to {MAX_SEED}")
            if not 0 <= self.seed <= MAX_SEED:
                raise WanValidationError("seed", self.seed, f"an integer from 0 to {MAX_SEED}")
        if self.duration is not None:
            _require_int("duration", self.duration, "a whole number of seconds")
            if self.duration < 1:
                raise WanValidationError("duration", self.duration, "a positive whole number of seconds")
        if self.size is not None:
            _require_type("size", self.size, str, 'a string "WIDTH*HEIGHT" such as "1280*720"')
            if not _SIZE_FORMAT.match(self.size):
                raise WanValidationError(
                    "size", self.size, 'the form "WIDTH*HEIGHT" with a "*", e.g. "1280*720"'
                )
        if self.shot_type is not None and self.shot_type not in ("single", "multi"):
            raise WanValidationError("shot_type", self.shot_type, '"single" or "multi"')
        if self.shot_type == "multi" and self.prompt_extend is False:
            raise WanValidationError("shot_type", self.shot_type, '"multi" needs prompt_extend=True')

    def _check_model(self, spec: ModelSpec) -> None:
        family = spec.family
        if spec.uses_resolution:
            if self.size is not None:
                raise WanValidationError(
                    "size", self.size, f"not accepted by {family}; use resolution and ratio instead"
                )
            if self.resolution is not None and self.resolution not in RESOLUTIONS:
                raise WanValidationError("resolution", self.resolution, f"one of {', '.join(RESOLUTIONS)}")
            if self.ratio is not None and self.ratio not in RATIOS:
                raise WanValidationError("ratio", self.ratio, f"one of {', '.join(RATIOS)}")
        else:
            for name in ("resolution", "ratio"):
                if getattr(self, name) is not None:
                    raise WanValidationError(
                        name, getattr(self, name), f"not accepted by {family}; use size instead"
                    )
            if self.size is not None and self.size not in spec.sizes:
                raise WanValidationError("size", self.size, f"one of {', '.join(spec.sizes)} for {family}")
        if self.duration is not None and self.duration not in spec.durations:
            raise WanValidationError("duration", self.duration, f"{_describe_durations(spec)} for {family}")
        if self.shot_type is not None and not spec.shot_type:
            hint = " (describe the shots in the prompt)" if spec.uses_resolution else ""
            raise WanValidationError("shot_type", self.shot_type, f"only wan2.6 models take it{hint}")
        if not spec.has_sound:
            if self.audio_url is not None:
                raise WanValidationError("audio_url", self.audio_url, f"{family} makes silent videos only")
            if self.audio:
                raise WanValidationError("audio", self.audio, f"{family} makes silent videos only")

    def output(self) -> OutputSpec:
        """What the service produces for this (valid, known-model) request."""
        spec = self.spec
        if spec is None:
            raise WanValidationError("model", self.model, f"one of {', '.join(sorted(MODELS))}")
        if spec.uses_resolution:
            size = WAN27_PIXELS[self.resolution or "1080P"][self.ratio or "16:9"]
        else:
            size = self.size or spec.default_size
        width, height = parse_pixels(size)
        has_audio = spec.has_sound and (self.audio_url is not None or self.audio is not False)
        return OutputSpec(width, height, self.duration or spec.default_duration, spec.fps, has_audio)


def _describe_durations(spec: ModelSpec) -> str:
    durations = spec.durations
    if len(durations) > 2 and durations == tuple(range(durations[0], durations[-1] + 1)):
        return f"a whole number of seconds from {durations[0]} to {durations[-1]}"
    return " or ".join(str(d) for d in durations) + " seconds"


def _require_text(name: str, value: Any) -> None:
    if not isinstance(value, str) or not value.strip():
        raise WanValidationError(name, value, "a non-empty string")


def _require_type(name: str, value: Any, kind: type, allowed: str) -> None:
    if not isinstance(value, kind):
        raise WanValidationError(name, value, allowed)


def _require_int(name: str, value: Any, allowed: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise WanValidationError(name, value, allowed)


def _check_audio_url(url: Any) -> None:
    allowed = "an http(s) or oss:// URL of a .wav or .mp3 file"
    _require_type("audio_url", url, str, allowed)
    parts = urlsplit(url)
    if parts.scheme not in AUDIO_SCHEMES or not parts.netloc or any(c.isspace() for c in url):
        raise WanValidationError("audio_url", url, allowed)
    last = parts.path.rsplit("/", 1)[-1].lower()
    if "." in last and not last.endswith(AUDIO_SUFFIXES):
        raise WanValidationError("audio_url", url, allowed)
