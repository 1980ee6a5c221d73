"""A mapped batch's ``partial()`` arguments, checked when the DAG is parsed, as an unmapped operator's are.

The rows (``expand``/``expand_kwargs``) are not known yet, so the request is judged with stand-ins for
the fields they may give (the prompt, the input media): an argument is refused only when no stand-in
row makes the request valid and the error names that argument. A stand-in that is itself refused (a
reference picture where a clip is needed) says nothing about the arguments; each row is checked in full
before anything is sent, as always.
"""

from __future__ import annotations

import inspect
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import fields
from typing import TYPE_CHECKING, Any

from airflow_provider_wan.api import MediaItem, WanValidationError
from airflow_provider_wan.operators import inputs
from airflow_provider_wan.operators.arguments import OperatorArguments
from airflow_provider_wan.operators.values import is_templated, parameter_root

if TYPE_CHECKING:
    from airflow_provider_wan.operators.generation import WanGenerationOperator

_PICTURE = "https://stand-in.example/picture.png"
_CLIP = "https://stand-in.example/clip.mp4"
_MAX_REFERENCES = 5


def _media_stand_ins() -> tuple[tuple[MediaItem, ...], ...]:
    """A first frame (image-to-video), and five references split every way between pictures and clips
    (reference-to-video: a prompt may name "Image 3" or "Video 2")."""
    first_frame = (MediaItem("first_frame", _PICTURE),)
    references = tuple(
        (MediaItem("reference_image", _PICTURE),) * pictures
        + (MediaItem("reference_video", _CLIP),) * (_MAX_REFERENCES - pictures)
        for pictures in range(_MAX_REFERENCES + 1)
    )
    return (first_frame, *references)


#: What a row may give in place of each field the partial arguments leave open: one value or several.
STAND_INS: dict[str, tuple[Any, ...]] = {
    "prompt": ("a stand-in prompt", None),
    "img_url": (_PICTURE,),
    "first_frame_url": (_PICTURE,),
    "reference_urls": ((_PICTURE,) * _MAX_REFERENCES,),
    "media": _media_stand_ins(),
}


def check_partial(operator: type[WanGenerationOperator], given: Mapping[str, Any]) -> None:
    """Refuse ``.partial(**given)`` arguments of ``operator`` that no row can make valid."""
    OperatorArguments.check({**_defaults(operator), **given})
    model = given.get("model")
    if not isinstance(model, str) or is_templated(model):
        return
    literal = {
        name: given[name]
        for name in operator.request_fields
        if given.get(name) is not None and not is_templated(given[name])
    }
    kind = operator.request_type_for({"model": model, **literal})
    open_fields = [name for name in STAND_INS if name in _field_names(kind) and name not in literal]
    refusals = []
    for row in _stand_in_rows(open_fields):
        try:
            request = operator.build_request({"model": model, **literal, **row})
            inputs.with_stand_ins(request).validate()
        except WanValidationError as error:
            if parameter_root(error.parameter) in literal:
                refusals.append(error)
            continue  # a refused stand-in says nothing about the arguments
        return  # a row can make the request valid
    if refusals:
        raise refusals[0]


def _field_names(kind: type) -> set[str]:
    return {field.name for field in fields(kind)}


def _stand_in_rows(open_fields: list[str]) -> Iterator[dict[str, Any]]:
    """Every combination of stand-ins for the open fields."""
    for values in itertools.product(*(STAND_INS[name] for name in open_fields)):
        yield dict(zip(open_fields, values, strict=True))


def _defaults(operator: type[WanGenerationOperator]) -> dict[str, Any]:
    """The operator's own arguments that have a default, by name (what ``partial`` leaves out)."""
    from airflow_provider_wan.operators.generation import WanGenerationOperator

    parameters = inspect.signature(WanGenerationOperator.__init__).parameters.values()
    return {p.name: p.default for p in parameters if p.default is not inspect.Parameter.empty}
