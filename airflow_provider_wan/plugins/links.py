"""The "Wan video" extra link of the generation and transfer operators: the task instance's tab in
Airflow's UI. Airflow computes a link when the task runs and keeps it (in XCom), so it must never be a
signed URL: the tab signs what it plays when it is opened."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow.providers.common.compat.sdk import BaseOperatorLink

from airflow_provider_wan.plugins.paths import api_base_url, ui_task_tab

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import BaseOperator, TaskInstanceKey


class WanVideoLink(BaseOperatorLink):
    """Opens the task instance's "Wan video" tab."""

    name = "Wan video"

    def get_link(self, operator: BaseOperator, *, ti_key: TaskInstanceKey) -> str:
        return ui_task_tab(api_base_url(), ti_key.dag_id, ti_key.run_id, ti_key.task_id, ti_key.map_index)
