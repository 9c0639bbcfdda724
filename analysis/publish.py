"""Write a model directory all at once: into a temporary sibling, renamed into place.

Why: a model cache entry (the ONNX export, a trained sentiment recipe) is found by its
directory's existence, so a run killed halfway must leave no directory under the key — the
next run then builds it again instead of loading half a model. The sibling sits in the same
folder, so the rename is atomic on one file system.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def publish_dir(target: Path) -> Iterator[Path]:
    """Yield an empty work directory; when the block ends normally it replaces `target`
    (an older `target` is removed first), and on any exception it is deleted."""
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        yield work
        if target.exists():
            shutil.rmtree(target)
        os.rename(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
