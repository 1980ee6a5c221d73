"""The ``wan`` connection form, declared once and handed to Airflow in both ways it reads forms.

Airflow 3.2+ reads ``conn-fields`` / ``ui-field-behaviour`` from the provider info without importing
the hook; Airflow 3.1 calls the hook's ``get_connection_form_widgets`` / ``get_ui_field_behaviour``.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_wan.api import REGIONS
from airflow_provider_wan.api.endpoints import DEFAULT_REGION

REGION_HELP = "Region of the API key and models: " + ", ".join(
    f"{region.id} ({region.name})" for region in REGIONS.values()
)
WORKSPACE_HELP = (
    "Optional Model Studio workspace id: calls go to {WorkspaceId}.{region}.maas.aliyuncs.com "
    "(required in regions without a shared host: Frankfurt, Tokyo)."
)
HOST_PLACEHOLDER = "https://dashscope-intl.aliyuncs.com/api/v1 or the emulator's http://127.0.0.1:8765/api/v1"

CONN_FIELDS: dict[str, dict[str, Any]] = {
    "region": {
        "label": "Region",
        "description": REGION_HELP,
        "schema": {"type": ["string", "null"], "enum": list(REGIONS), "default": DEFAULT_REGION},
    },
    "workspace_id": {
        "label": "Workspace ID",
        "description": WORKSPACE_HELP,
        "schema": {"type": ["string", "null"], "maxLength": 64},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["login", "schema", "port"],
    "relabeling": {"password": "API Key", "host": "Base URL (optional)"},
    "placeholders": {
        "password": "sk-...",
        "host": HOST_PLACEHOLDER,
        "workspace_id": "leave empty for the region's shared host",
    },
}


def connection_form_widgets() -> dict[str, Any]:
    """The extra fields as WTForms fields (Airflow 3.1 turns them into the UI form)."""
    from wtforms import StringField
    from wtforms.validators import Optional, any_of

    return {
        "region": StringField(
            CONN_FIELDS["region"]["label"],
            validators=[Optional(), any_of(list(REGIONS))],
            description=REGION_HELP,
            default=DEFAULT_REGION,
        ),
        "workspace_id": StringField(
            CONN_FIELDS["workspace_id"]["label"], validators=[Optional()], description=WORKSPACE_HELP
        ),
    }


def ui_field_behaviour() -> dict[str, Any]:
    """``UI_FIELD_BEHAVIOUR`` in the snake_case keys the hook method form uses."""
    return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}
