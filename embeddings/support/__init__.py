"""The adapters' support code: the only place that touches the cache, the mirror and the network.

Family-free and benchmark-free (it imports nothing else of ctxbench), so the adapters work
in a project that has never heard of the benchmark; ``bench`` uses it too.

- :mod:`~embeddings.support.paths`: ``cache_root()``, ``mirror_root()``, ``cache_dir()``;
- :mod:`~embeddings.support.files`: ``atomic_path``, ``write_text_atomic``, ``sha256_file``,
  ``file_lock``;
- :mod:`~embeddings.support.fetch`: ``fetch_verified`` (download, verify, extract; retries);
- :mod:`~embeddings.support.threads`: ``torch_threads``;
- :mod:`~embeddings.support.errors`: ``CtxbenchError`` and its subclasses.
"""

from embeddings.support.errors import (
    CacheNotWritable,
    ChecksumMismatch,
    ConfigError,
    CtxbenchError,
    DownloadError,
    UnknownName,
)
from embeddings.support.files import atomic_path, file_lock, sha256_file, write_text_atomic
from embeddings.support.paths import cache_dir, cache_root, mirror_root
from embeddings.support.threads import torch_threads

__all__ = [
    "CacheNotWritable",
    "ChecksumMismatch",
    "ConfigError",
    "CtxbenchError",
    "DownloadError",
    "UnknownName",
    "atomic_path",
    "cache_dir",
    "cache_root",
    "file_lock",
    "mirror_root",
    "sha256_file",
    "torch_threads",
    "write_text_atomic",
]
