"""Sphinx configuration for the ember documentation.

The API reference is written at build time from the live ``ember`` namespace by
the local extension ``_ext/ember_api.py``, so every public name is documented
without a hand-kept list.  Build with warnings as errors::

    sphinx-build -W --keep-going -b html doc doc/_build/html
    sphinx-build -W --keep-going -b doctest doc doc/_build/doctest
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "_ext"))

import ember  # noqa: E402  (the reference documents the installed package)

project = "ember"
author = "the ember developers"
copyright = "2025, the ember developers"
release = ember.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "sphinx.ext.mathjax",
    "numpydoc",
    "ember_api",
]

exclude_patterns = ["_build", "**.ipynb_checkpoints"]
default_role = "autolink"

# autodoc / autosummary: stub pages are written by ember_api, not autosummary.
autosummary_generate = False
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"

# numpydoc: member tables are written by ember_api; none from numpydoc.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = False

# doctest: every ``>>>`` block of the user guide and of the API docstrings runs.
doctest_test_doctest_blocks = "default"
doctest_global_setup = """
import numpy as np
import ember
"""
trim_doctest_flags = True

html_theme = "pydata_sphinx_theme"
html_title = f"ember {release}"
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": []}
html_static_path = []
html_show_sourcelink = False
