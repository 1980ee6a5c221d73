"""What Airflow's providers manager learns about this package (entry point ``apache_airflow_provider``)."""

from __future__ import annotations

from typing import Any

from airflow_provider_wan import __version__
from airflow_provider_wan.hooks.form import CONN_FIELDS, UI_FIELD_BEHAVIOUR

INTEGRATION = "Alibaba Wan"


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "airflow-provider-wan",
        "name": "Alibaba Wan",
        "description": (
            "Video generation with Alibaba's Wan models (DashScope / Model Studio): text-, image-, "
            "keyframes- and reference-to-video."
        ),
        "versions": [__version__],
        "integrations": [
            {
                "integration-name": INTEGRATION,
                "external-doc-url": "https://www.alibabacloud.com/help/en/model-studio/text-to-video-api-reference",
                "tags": ["alibaba"],
            }
        ],
        "hooks": [{"integration-name": INTEGRATION, "python-modules": ["airflow_provider_wan.hooks.wan"]}],
        "operators": [
            {
                "integration-name": INTEGRATION,
                "python-modules": [
                    "airflow_provider_wan.operators.wan",
                    "airflow_provider_wan.operators.generation",
                    "airflow_provider_wan.operators.image_to_video",
                    "airflow_provider_wan.operators.keyframes_to_video",
                    "airflow_provider_wan.operators.reference_to_video",
                    "airflow_provider_wan.operators.budget",
                ],
            }
        ],
        "triggers": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_wan.triggers.wan"]}
        ],
        "sensors": [
            {"integration-name": INTEGRATION, "python-modules": ["airflow_provider_wan.sensors.wan"]}
        ],
        "connection-types": [
            {
                "connection-type": "wan",
                "hook-class-name": "airflow_provider_wan.hooks.wan.WanHook",
                "hook-name": "Alibaba Wan",
                "conn-fields": CONN_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "transfers": [
            {
                "source-integration-name": INTEGRATION,
                "target-integration-name": "Amazon Simple Storage Service (S3)",
                "python-module": "airflow_provider_wan.transfers.wan_to_s3",
            }
        ],
        "extra-links": ["airflow_provider_wan.plugins.links.WanVideoLink"],
        "config": {
            "wan": {
                "description": "The Alibaba Wan provider.",
                "options": {
                    "task_api_rps": {
                        "description": (
                            "Query, cancel and list requests a second each Airflow process (a triggerer, "
                            "a worker) may send per Wan account; the vendor allows 20 per account in all. "
                            "With several triggerers or workers on one account, give each a share (two "
                            "triggerers: 10). A connection's task_api_rps extra wins over this."
                        ),
                        "version_added": "0.1.0",
                        "type": "float",
                        "example": "10",
                        "default": "20",
                    },
                    "prices": {
                        "description": (
                            "Prices per second of Wan models for estimates, costs and the max_cost cap, as "
                            'JSON: {"MODEL": {"currency": "USD", "720P": 0.1, "1080P silent": 0.05}, ...}; '
                            "rates keyed '*' or 480P/720P/1080P, optionally with ' sound' or ' silent'; null "
                            "unprices a model. Overrides the shipped defaults model by model; a connection's "
                            "prices extra overrides this."
                        ),
                        "version_added": "0.1.0",
                        "type": "string",
                        "example": '{"wan2.6-t2v": {"currency": "USD", "720P": 0.1, "1080P": 0.15}}',
                        "default": None,
                    },
                },
            }
        },
    }
