"""gensim's native ``.kv``/``.model`` files, unpickled safely.

They are pickles: a restricted unpickler admits only gensim model classes, numpy arrays and
plain containers, so a malicious pickle is refused instead of executed.
"""

from __future__ import annotations

import logging
import pickle
from pathlib import Path
from typing import Any

from gensim.models import KeyedVectors

from embeddings.static.formats import StaticFormatError, _open

logger = logging.getLogger(__name__)

_ALLOWED = {
    ("builtins", n)
    for n in (
        "int",
        "float",
        "complex",
        "str",
        "bytes",
        "bytearray",
        "bool",
        "dict",
        "list",
        "tuple",
        "set",
        "frozenset",
        "slice",
        "range",
        "object",
        "hash",
    )
} | {
    ("collections", "defaultdict"),
    ("collections", "OrderedDict"),
    ("copyreg", "_reconstructor"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.random._pickle", "__bit_generator_ctor"),
    ("numpy.random._pickle", "__randomstate_ctor"),
    ("numpy.random._pickle", "__generator_ctor"),
    ("numpy.random._mt19937", "MT19937"),
    ("numpy.random._pcg64", "PCG64"),
    ("gensim.utils", "call_on_class_only"),
}


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits gensim model classes, numpy arrays and plain containers; nothing callable else."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.startswith("gensim.models") or module == "gensim.utils":
            obj = super().find_class(module, name)
            if isinstance(obj, type):
                return obj
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: not a gensim model class, numpy array or plain container"
        )


def load_gensim_native(path: str | Path, *, mmap: bool = False) -> KeyedVectors:
    """A gensim ``KeyedVectors.save`` file (.kv) or ``Word2Vec.save`` file (.model -> .wv)."""
    from gensim.utils import SaveLoad

    path = Path(path)
    compress, subname = SaveLoad._adapt_by_suffix(str(path))
    with _open(path) as f:
        try:
            obj = _RestrictedUnpickler(f).load()
        except (pickle.UnpicklingError, EOFError, AttributeError, ImportError) as e:
            raise StaticFormatError(path, 1, f"not a loadable gensim file: {e}") from None
    if not hasattr(obj, "_load_specials"):
        raise StaticFormatError(path, 1, f"a pickle of {type(obj).__name__}, not a gensim model")
    obj._load_specials(str(path), "r" if mmap and not compress else None, compress, subname)
    if isinstance(obj, KeyedVectors):
        return obj
    wv = getattr(obj, "wv", None)
    if isinstance(wv, KeyedVectors):
        return wv
    raise StaticFormatError(path, 1, f"a gensim {type(obj).__name__} without word vectors (.wv)")


