"""gensim's native ``.kv``/``.model`` files, unpickled safely.

They are pickles: a restricted unpickler admits only gensim model classes, numpy arrays and
plain containers, so a malicious pickle is refused instead of executed.
"""

from __future__ import annotations

import _compat_pickle
import copyreg
import logging
import pickle
from pathlib import Path
from typing import Any, cast

import numpy as np
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
    ("_codecs", "encode"),  # protocol 0/1 write bytes as _codecs.encode(text, "latin1")
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


#: bases _reconstructor may call on a new instance (plain containers; their __init__ runs no code of the file)
_PLAIN_BASES = (object, dict, list, set, tuple, frozenset, str, bytes, int, float)


def _uninitialised(cls: type) -> type:
    """A stand-in for gensim class ``cls``: calling it (REDUCE) or ``__new__`` (NEWOBJ) gives an
    instance of ``cls`` WITHOUT running ``cls.__init__``.

    Saved gensim objects are rebuilt with ``cls.__new__`` and their ``__dict__``; only a crafted
    pickle calls a class, e.g. ``Word2Vec(corpus)``, which would train a model from the file.
    """

    def new(stand_in: type, *args: Any, **kwargs: Any) -> Any:
        return cast(Any, cls).__new__(cls)

    return type(cls.__name__, (), {"__new__": new, "__module__": cls.__module__, "_ctxbench_real": cls})


def _safe_reconstructor(cls: Any, base: Any, state: Any) -> Any:
    """``copyreg._reconstructor`` (protocol 0/1) for a gensim stand-in and a plain base only."""
    real = getattr(cls, "_ctxbench_real", None)
    if real is None or base not in _PLAIN_BASES:
        raise pickle.UnpicklingError(f"refusing _reconstructor({cls!r}, {base!r}): only gensim classes over "
                                     "plain bases are rebuilt")
    return copyreg._reconstructor(real, base, state)  # type: ignore[attr-defined]


class _RestrictedUnpickler(pickle.Unpickler):
    """Admits gensim model classes (never calling their __init__), numpy arrays and plain containers."""

    def find_class(self, module: str, name: str) -> Any:
        # Python 2 names in protocol 0-2 pickles (copy_reg, __builtin__.long), mapped as the stdlib maps them
        if (module, name) in _compat_pickle.NAME_MAPPING:
            module, name = _compat_pickle.NAME_MAPPING[(module, name)]
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
        if "." in name:  # protocol 4 resolves dotted names: gensim.utils + "subprocess.Popen" reaches Popen
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}: a dotted name")
        if (module, name) == ("copyreg", "_reconstructor"):
            return _safe_reconstructor
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        if module.startswith("gensim.models") or module == "gensim.utils":
            obj = super().find_class(module, name)
            if isinstance(obj, type) and obj.__module__.startswith("gensim."):
                return _uninitialised(obj)
        raise pickle.UnpicklingError(
            f"refusing to unpickle {module}.{name}: not a gensim model class, numpy array or plain container"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise pickle.UnpicklingError("refusing a persistent id: gensim files have none")


_SPECIALS = ("__numpys", "__scipys", "__ignoreds", "__recursive_saveloads")


def _check_specials(obj: Any, path: Path, where: str = "", depth: int = 0) -> None:
    """Refuse what gensim's ``_load_specials`` would do unsafely with a crafted file.

    ``__scipys`` makes gensim unpickle the files beside the pickle with the UNRESTRICTED
    unpickler (word vectors have no scipy matrices); attribute names with a path separator
    would read arrays from elsewhere.
    """
    if depth > 8:
        raise StaticFormatError(path, 1, "the saved objects nest too deeply")
    attrs = getattr(obj, "__dict__", None)
    if not isinstance(attrs, dict):
        return
    for key in _SPECIALS:
        names = attrs.get(key, [])
        if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
            raise StaticFormatError(path, 1, f"{where}{key} is {names!r:.80}, not a list of attribute names")
        bad = [n for n in names if any(c in n for c in "/\\\x00") or n.startswith(".")]
        if bad:
            raise StaticFormatError(path, 1, f"{where}{key} names {bad[:3]}: not attribute names; refused")
    if attrs.get("__scipys"):
        raise StaticFormatError(
            path, 1, f"{where}__scipys asks to unpickle {attrs['__scipys'][:3]} from files beside {path.name} "
            "without restriction; word vectors have no scipy matrices, so the file is refused"
        )
    for name in attrs.get("__recursive_saveloads", []):
        _check_specials(getattr(obj, name, None), path, f"{where}{name}.", depth + 1)


def load_gensim_native(path: str | Path, *, mmap: bool = False) -> KeyedVectors:
    """A gensim ``KeyedVectors.save`` file (.kv) or ``Word2Vec.save`` file (.model -> .wv)."""
    from gensim.utils import SaveLoad

    path = Path(path)
    compress, subname = SaveLoad._adapt_by_suffix(str(path))
    with _open(path) as f:
        try:
            obj = _RestrictedUnpickler(f).load()
        except Exception as e:  # a damaged pickle raises anything from EOFError to struct.error or MemoryError
            raise StaticFormatError(path, 1, f"not a loadable gensim file: {type(e).__name__}: {e}") from None
    if not hasattr(obj, "_load_specials"):
        raise StaticFormatError(path, 1, f"a pickle of {type(obj).__name__}, not a gensim model")
    _check_specials(obj, path)
    try:
        obj._load_specials(str(path), "r" if mmap and not compress else None, compress, subname)
    except Exception as e:  # the .npy files beside it: missing, cut short, of another shape
        raise StaticFormatError(
            path, 1, f"the arrays saved beside it (<name>.*.npy) are missing or damaged: {type(e).__name__}: {e}"
        ) from None
    if isinstance(obj, KeyedVectors):
        kv = obj
    else:
        kv = getattr(obj, "wv", None)
        if not isinstance(kv, KeyedVectors):
            raise StaticFormatError(path, 1, f"a gensim {type(obj).__name__} without word vectors (.wv)")
    _check_vectors(kv, path)
    return kv


def _check_vectors(kv: KeyedVectors, path: Path) -> None:
    """The unpickled KeyedVectors hold what the loader relies on: a 2-D float matrix, one str key per row."""
    vectors = getattr(kv, "vectors", None)
    keys = getattr(kv, "index_to_key", None)
    index = getattr(kv, "key_to_index", None)
    if not isinstance(vectors, np.ndarray) or vectors.ndim != 2 or vectors.dtype.kind != "f":
        what = f"{vectors.dtype} array of shape {vectors.shape}" if isinstance(vectors, np.ndarray) else \
            type(vectors).__name__
        raise StaticFormatError(path, 1, f"the vectors are a {what}, not a 2-D float matrix")
    if not isinstance(keys, list) or len(keys) != vectors.shape[0] or not isinstance(index, dict):
        n = len(keys) if isinstance(keys, list) else type(keys).__name__
        raise StaticFormatError(path, 1, f"{n} words for {vectors.shape[0]} vectors")
    if len(index) != len(keys) or any(not isinstance(w, str) or index.get(w) != i for i, w in enumerate(keys)):
        raise StaticFormatError(path, 1, "the word index (key_to_index) does not match the word list")
    if not isinstance(vectors, np.memmap) and not np.isfinite(vectors).all():
        raise StaticFormatError(path, 1, "the vectors have NaN or infinite values")
