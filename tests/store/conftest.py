"""Every store test that takes `store_target` runs on both backends (see backends.py)."""

from backends import backend, lake_template, pg, store_target  # noqa: F401  (fixtures)
