"""The memory-map conversion cache: a big text/binary file converted ONCE into ``words.json`` + ``vectors.npy``.

The conversion lives in ``$CTXBENCH_CACHE/models/converted/<file>-<key>`` (the key hashes the
file's absolute path, size and mtime) and is written atomically; later loads map the matrix,
so a 2.2M x 300 file costs only its word index in RAM.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path

import numpy as np

from embeddings.static.formats import StaticFormatError, sniff_format
from embeddings.static.parsers import read_vectors

#: bump when the conversion's layout changes
_CONVERTED_VERSION = "1"

logger = logging.getLogger(__name__)

# -- conversion cache ----------------------------------------------------------------------
def converted_dir(path: Path, fmt: str, unicode_errors: str = "strict", lenient_tokens: bool = False) -> Path:
    """Where the memory-mappable conversion of ``path`` lives (keyed by path, size, mtime)."""
    from embeddings.support.paths import cache_root

    st = path.stat()
    key = json.dumps(
        [_CONVERTED_VERSION, str(path.resolve()), st.st_size, st.st_mtime_ns, fmt, unicode_errors]
        + (["lenient"] if lenient_tokens else [])
    )
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return cache_root() / "models" / "converted" / f"{path.name}-{digest}"


def convert_to_npy(
    path: str | Path, fmt: str | None = None, *, unicode_errors: str = "strict", lenient_tokens: bool = False
) -> Path:
    """Convert a text/binary vector file once into ``words.json`` + ``vectors.npy`` (atomic).

    Returns the directory. When the row count is known from a header the matrix is written
    straight into a memory-mapped .npy, so converting never holds it in RAM.
    """
    from embeddings.support.files import atomic_path

    path = Path(path)
    fmt = fmt or sniff_format(path)
    target = converted_dir(path, fmt, unicode_errors, lenient_tokens)
    if (target / "vectors.npy").is_file() and (target / "words.json").is_file():
        return target
    logger.info("converting %s (%s) to a memory-mappable copy in %s", path, fmt, target)
    with atomic_path(target) as tmp:
        tmp.mkdir(parents=True)
        npy = tmp / "vectors.npy"

        def alloc(n: int, d: int) -> np.ndarray:
            return np.lib.format.open_memmap(npy, mode="w+", dtype=np.float32, shape=(n, d))

        words, matrix, fmt = read_vectors(
            path, fmt, out=alloc, unicode_errors=unicode_errors, lenient_tokens=lenient_tokens
        )
        if npy.exists():  # written in place through the memmap
            full = np.load(npy, mmap_mode="r")
            if full.shape[0] != len(words):  # duplicates were dropped: copy the kept rows, in slices
                trimmed = tmp / "trimmed.npy"
                dst = np.lib.format.open_memmap(trimmed, mode="w+", dtype=np.float32, shape=matrix.shape)
                for k in range(0, len(words), 1 << 16):
                    dst[k : k + (1 << 16)] = matrix[k : k + (1 << 16)]
                dst.flush()
                del dst, full, matrix
                os.replace(trimmed, npy)
            else:
                if hasattr(matrix, "flush"):
                    matrix.flush()
                del full, matrix
        else:
            np.save(npy, matrix)
            del matrix
        (tmp / "words.json").write_text(json.dumps(words, ensure_ascii=False), encoding="utf-8")
        (tmp / "source.json").write_text(
            json.dumps({"path": str(path.resolve()), "format": fmt}), encoding="utf-8"
        )
    return target


def load_converted(directory: Path) -> tuple[list[str], np.ndarray]:
    words = json.loads((directory / "words.json").read_text(encoding="utf-8"))
    vectors = np.load(directory / "vectors.npy", mmap_mode="r")
    if len(words) != vectors.shape[0]:
        raise StaticFormatError(
            directory / "words.json",
            1,
            f"{len(words)} words for {vectors.shape[0]} "
            "vectors: a damaged conversion cache; delete the directory",
        )
    return words, vectors


