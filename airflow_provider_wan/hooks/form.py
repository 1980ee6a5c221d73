"""The ``wan`` connection form, declared once and handed to Airflow in both ways it reads forms.

Airflow 3.2+ reads ``conn-fields`` / ``ui-field-behaviour`` from the provider info without importing
the hook; Airflow 3.1 calls the hook's ``get_connection_form_widgets`` / ``get_ui_field_behaviour``.
Every Airflow process reads the provider info, so this module is plain literals and imports nothing of
the package: the region table is written out here (``tests/test_provider_info.py`` checks it against
``airflow_provider_wan.api.REGIONS``).
"""

from __future__ import annotations

from typing import Any

REGION_NAMES = {
    "cn-beijing": "Beijing",
    "ap-southeast-1": "Singapore",
    "us-east-1": "Virginia",
    "eu-central-1": "Frankfurt",
    "cn-hongkong": "Hong Kong",
    "ap-northeast-1": "Tokyo",
}
DEFAULT_REGION = "ap-southeast-1"
REGION_HELP = "Region of the API key and models: " + ", ".join(
    f"{region} ({name})" for region, name in REGION_NAMES.items()
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
        "schema": {"type": ["string", "null"], "enum": list(REGION_NAMES), "default": DEFAULT_REGION},
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
            validators=[Optional(), any_of(list(REGION_NAMES))],
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
