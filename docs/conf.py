"""Sphinx configuration: the pages are MyST Markdown (they read as Markdown on a code host too), the API
reference comes from the docstrings (autodoc), and every example is included from a file a test runs.

Build with ``make docs`` (warnings are errors)."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# autodoc imports the provider, which imports Airflow: give Airflow a throw-away home first, so building
# the docs never writes to ~/airflow.
from airflow_provider_wan.testing import isolate_airflow_home  # noqa: E402

isolate_airflow_home()

import airflow_provider_wan  # noqa: E402

project = "airflow-provider-wan"
author = "airflow-provider-wan maintainers"
copyright = "the airflow-provider-wan maintainers, Apache-2.0"
release = airflow_provider_wan.__version__
version = release

extensions = ["myst_parser", "sphinx.ext.autodoc"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["examples"]

myst_heading_anchors = 3  # GitHub's heading slugs, so page#heading links work on the code host and here
myst_enable_extensions = ["deflist"]

autodoc_member_order = "bysource"
autodoc_typehints = "description"
# An undocumented override (execute, poke) is left out rather than shown with its base class's text.
autodoc_inherit_docstrings = False
autodoc_default_options = {"show-inheritance": True}

html_theme = "furo"
html_title = f"airflow-provider-wan {release}"
html_static_path: list[str] = []
pygments_style = "friendly"
