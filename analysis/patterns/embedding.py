"""The clustering vector of an interaction, built from its per-turn MiniLM vectors.

One definition used by both writers of `interaction_embeddings`: the analysis pipeline
(which already encodes every turn with MiniLM for topics and rules, so storing this
vector costs no extra encode and `assign_new` needs none) and the patterns job (which
builds it the same way for interactions the pipeline did not cover: older data, another
model, or a pipeline run without patterns).

The vector is the L2-normalised mean of the customer turns' vectors (all turns when the
customer said nothing). Mean pooling of sentence vectors is the standard document
embedding for MiniLM-style encoders (it is how sentence-transformers pools tokens, one
level up), and it keeps the customer's side what is clustered, as before.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from store.records import content_hash

#: characters of a turn given to the encoder (the pipeline's EMBED_CHARS: MiniLM reads
#: 256 word pieces at most)
TURN_CHARS = 600
DIM = 384
#: marks the representation in the stored hash, so vectors made from the concatenated
#: text (the earlier representation) are seen as stale and rebuilt
REPRESENTATION = "turns-mean/v1"


def clustering_turns(speakers: Sequence[str], texts: Sequence[str]) -> list[int]:
    """Indexes of the turns the vector is built from: the customer's, else all non-empty."""
    filled = [i for i, t in enumerate(texts) if t.strip()]
    customer = [i for i in filled if speakers[i] == "customer"]
    return customer or filled


def source_hash(texts: Sequence[str]) -> str:
    """The hash stored with the vector: the chosen turns' texts (as stored) + the marker."""
    return content_hash(REPRESENTATION + "\x1e" + "\x1f".join(texts))


def mean_vector(vectors: np.ndarray) -> np.ndarray:
    """L2-normalised mean of turn vectors, float32, 384-d (zeros when there are none)."""
    if len(vectors) == 0:
        return np.zeros(DIM, np.float32)
    m = np.asarray(vectors, dtype=np.float64).mean(axis=0)
    norm = float(np.linalg.norm(m))
    return (m / norm if norm > 0 else m).astype(np.float32)
