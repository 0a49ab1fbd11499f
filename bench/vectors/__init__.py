"""Vectors for tasks: what they need (requests), where it comes from (sources), the disk cache.

See :mod:`bench.vectors.requests`, :mod:`bench.vectors.source`, :mod:`bench.vectors.planned`
and :mod:`bench.vectors.cache`.
"""

from bench.vectors.cache import EmbeddingCache, item_key
from bench.vectors.planned import PlannedSource, UndeclaredInput
from bench.vectors.pooling import pool_sentences, pool_words
from bench.vectors.requests import Requests
from bench.vectors.source import DirectSource, VectorSource, as_source

__all__ = ["DirectSource", "EmbeddingCache", "PlannedSource", "Requests", "UndeclaredInput", "VectorSource",
           "as_source", "item_key", "pool_sentences", "pool_words"]
