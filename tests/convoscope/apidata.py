"""The generated store behind the API tests (test_api, test_api_query, test_roles_api):
300 interactions from bench/generate_store.py at a fixed clock, and the service token."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
TOKEN = "s3cret-token"


def generator() -> ModuleType:
    """bench/generate_store.py, loaded by path (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("generate_store", ROOT / "bench" / "generate_store.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod
