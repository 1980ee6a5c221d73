"""Apache Airflow provider for Alibaba's Wan text-to-video service."""

from __future__ import annotations

__version__ = "0.1.0"
