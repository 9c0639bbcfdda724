"""The generated store behind the API tests (test_api, test_api_query, test_roles_api):
300 interactions from bench/generate_store.py at a fixed clock, and the service token."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from scriptload import load_script

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TOKEN = "s3cret-token"


def generator() -> ModuleType:
    """bench/generate_store.py, loaded by path (bench/ is not a package)."""
    return load_script("bench/generate_store.py")
