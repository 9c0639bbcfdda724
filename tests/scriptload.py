"""Load a script that lives outside any package (bench/*.py, samples/make_calls.py,
tests/fakes/*.py, tests/data/*.py) as a module, once per process and name.

Why one helper: those files are scripts by design (run as `python bench/x.py`), so tests
reach them by path. The module is registered in `sys.modules` before it runs, because
dataclasses look their defining module up while the class is being built; a second load
under the same name returns the first (a fake's class then stays one class).
`pyproject.toml` puts `tests/` on the test path (`pythonpath`), so any test imports this
as `from scriptload import load_script`.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]


def load_script(path: Path | str, name: str | None = None) -> ModuleType:
    """The module of the script at `path` (relative paths are from the repository root),
    registered as `name` (default: the file's stem)."""
    path = Path(path)
    if not path.is_absolute():
        path = ROOT / path
    name = name or path.stem
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path} as a module")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod
    try:
        spec.loader.exec_module(mod)
    except BaseException:
        del sys.modules[name]  # a failed load is not cached as a half-made module
        raise
    return mod
