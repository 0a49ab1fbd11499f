"""Static word-vector files in every canonical format, read into one :class:`StaticEmbedder`.

Formats (inferred from the file's first bytes, or given with ``format=``):

``word2vec-binary``
    Header line ``"N D"``, then N records ``word<space><D little-endian float32>``, each
    usually followed by ``\\n`` (the word2vec C tool; GoogleNews-vectors-negative300.bin).
``word2vec-text``
    Header line ``"N D"``, then N lines ``word v1 ... vD``.
``glove-text``
    No header; lines ``word v1 ... vD`` (glove.6B/42B/840B). The LAST D fields are the
    vector and everything before them is the token, so glove.840B's tokens with spaces
    inside (``". . ."``, ``"at name@domain.com"``) load correctly. A line whose token would
    end in a number (``"word 0.1 ... 0.3"`` with one value too many) is refused as a wrong
    dimension rather than read as a token with a space.
``gensim``
    gensim's native ``KeyedVectors.save`` (.kv) or a full ``Word2Vec.save`` (.model, whose
    ``.wv`` is used). These are pickles: they are read with a restricted unpickler that
    admits only gensim model classes, numpy arrays and plain containers.

``.gz`` and ``.bz2`` compression is detected from the magic bytes and read as a stream.

Every parse error raises :class:`StaticFormatError` naming the file and the line (for
binary files: record k is on line k+1, after the header): a truncated file, a line with the
wrong number of values, a non-numeric or non-finite value, a binary file ending inside a
vector, a header whose count disagrees with the file.

Big files: ``mmap=True`` converts the file ONCE into ``cache_dir("models", "converted",
<key>)`` (``words.json`` + ``vectors.npy``, written atomically; the key hashes the file's
absolute path, size and mtime) and memory-maps the matrix afterwards, so a 2.2M x 300 file
costs only its word index in RAM. ``max_vocab=N`` keeps the first N words (files are in
frequency order), ``vocab=`` keeps only the given words; both stream the file and stop
early where they can.

Examples
--------
>>> import tempfile, pathlib
>>> p = pathlib.Path(tempfile.mkdtemp()) / "tiny.txt"
>>> _ = p.write_text("bank 1.0 0.0\\nriver 0.0 1.0\\n")
>>> emb = load_static_file(p, family="glove")
>>> emb.vocab_size, emb.dim, emb.options["format"], emb.lowercase
(2, 2, 'glove-text', True)
>>> _ = p.write_text("bank 1.0 0.0\\nriver 0.0")
>>> try:
...     load_static_file(p, family="glove")
... except StaticFormatError as e:
...     print(e.line, e.problem)
2 expected a word and 2 values, got 1 value (the file looks truncated: its last line has no newline)
"""

from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import logging
import os
import pickle
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
from gensim.models import KeyedVectors

from embeddings.static import StaticEmbedder
from embeddings.support.errors import CtxbenchError

logger = logging.getLogger(__name__)

FORMATS = ("word2vec-binary", "word2vec-text", "glove-text", "gensim")
#: files at least this big are memory-mapped by default (``mmap=None``)
MMAP_THRESHOLD = 1 << 30
#: files up to this size get a full sha256 as weights identity; bigger ones a sampled one
FULL_HASH_LIMIT = 256 << 20
_HEADER = re.compile(rb"\s*(\d+)\s+(\d+)\s*")
_CONVERTED_VERSION = "1"


class StaticFormatError(CtxbenchError, ValueError):
    """A vector file that cannot be read; the message is ``file:line: problem``.

    >>> str(StaticFormatError("vectors.txt", 7, "expected a word and 300 values, got 299 values"))
    'vectors.txt:7: expected a word and 300 values, got 299 values'
    """

    def __init__(self, path: str | Path, line: int, problem: str) -> None:
        self.path, self.line, self.problem = str(path), line, problem
        super().__init__(f"{path}:{line}: {problem}")


# -- opening and sniffing ---------------------------------------------------------------
def _open(path: Path) -> IO[bytes]:
    with open(path, "rb") as f:
        magic = f.read(3)
    if magic[:2] == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if magic == b"BZh":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=1 << 20)


def sniff_format(path: str | Path) -> str:
    """Which of :data:`FORMATS` a file is, from its first bytes.

    A pickle (gensim native) starts with the pickle protocol marker; a first line ``"N D"``
    means word2vec (binary when the first record is not text, text otherwise); any other
    text is GloVe.
    """
    path = Path(path)
    with _open(path) as f:
        head = f.read(1 << 16)
    if not head:
        raise StaticFormatError(path, 1, "the file is empty")
    if head[:1] == b"\x80" and len(head) > 1 and 2 <= head[1] <= 5:
        return "gensim"
    first, _, rest = head.partition(b"\n")
    m = _HEADER.fullmatch(first)
    if m:
        dim = int(m.group(2))
        record = rest.split(b"\n", 1)[0] if b"\n" in rest else rest
        try:
            fields = record.decode("utf-8").rstrip("\r ").split(" ")
            if len(fields) >= dim + 1 and dim > 0:
                [float(x) for x in fields[-dim:]]
                return "word2vec-text"
        except (UnicodeDecodeError, ValueError):
            pass
        if len(rest) < 4 * dim and b"\n" in rest[:-1] and _looks_like_text(rest):
            return "word2vec-text"  # a text file whose first record is short: let the parser say why
        return "word2vec-binary"
    if not _looks_like_text(head):
        raise StaticFormatError(
            path,
            1,
            "not a word-vector file: binary data without a word2vec 'N D' header and not a gensim pickle",
        )
    return "glove-text"


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data:
        return False
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= len(data) - 4  # a multi-byte character cut at the end of the sample
    return True


# -- parsers ------------------------------------------------------------------------------
Keep = Callable[[str], bool]


class _Collector:
    """Collects kept rows into a growing float32 matrix, or block-wise into a preallocated one.

    With ``out`` (e.g. a memory-mapped .npy of the declared size) rows are buffered in RAM
    and written in blocks of 65,536: bulk copies instead of a page fault per row.
    """

    BLOCK = 1 << 16

    def __init__(self, dim: int, capacity: int, out: np.ndarray | None = None) -> None:
        self.dim = dim
        self.words: list[str] = []
        self.seen: set[str] = set()
        self.duplicates = 0
        self.out = out
        self.flushed = 0
        size = min(capacity, self.BLOCK) if out is not None else capacity
        self.matrix = np.empty((max(size, 16), dim), np.float32)

    def add(self, word: str, vec: np.ndarray) -> None:
        if word in self.seen:
            self.duplicates += 1
            return
        k = len(self.words) - self.flushed
        if k == self.matrix.shape[0]:
            if self.out is not None:
                self._flush()
                k = 0
            else:
                bigger = np.empty((2 * k, self.dim), np.float32)
                bigger[:k] = self.matrix
                self.matrix = bigger
        self.matrix[k] = vec
        self.words.append(word)
        self.seen.add(word)

    def _flush(self) -> None:
        assert self.out is not None
        k = len(self.words) - self.flushed
        self.out[self.flushed : self.flushed + k] = self.matrix[:k]
        self.flushed += k

    def result(self) -> tuple[list[str], np.ndarray]:
        n = len(self.words)
        self.seen = set()
        if self.out is not None:
            self._flush()
            return self.words, self.out[:n] if self.out.shape[0] != n else self.out
        return self.words, self.matrix[:n] if self.matrix.shape[0] != n else self.matrix


def _parse_header(line: bytes, path: Path) -> tuple[int, int]:
    m = _HEADER.fullmatch(line.rstrip(b"\r\n"))
    if not m:
        raise StaticFormatError(
            path, 1, f"expected a word2vec header 'N D' (count and dimension), got {line[:60]!r}"
        )
    n, d = int(m.group(1)), int(m.group(2))
    if d < 1:
        raise StaticFormatError(path, 1, f"header dimension is {d}")
    return n, d


def _trailing_numbers(fields: list[bytes]) -> int:
    """How many fields at the end of a line parse as numbers (the vector, if the line is sound)."""
    k = 0
    for field in reversed(fields[1:]):
        try:
            float(field)
        except ValueError:
            break
        k += 1
    return k


def _values_word(k: int) -> str:
    return f"{k} value" + ("" if k == 1 else "s")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_text_line(
    line: str, dim: int, path: Path, lineno: int, spaces_in_tokens: str, last: bool
) -> tuple[str, np.ndarray]:
    fields = line.rstrip(" ").split(" ")
    truncated = " (the file looks truncated: its last line has no newline)" if last else ""
    if len(fields) < dim + 1:
        raise StaticFormatError(
            path, lineno, f"expected a word and {dim} values, got {_values_word(len(fields) - 1)}{truncated}"
        )
    token_fields = fields[:-dim]
    guarded = spaces_in_tokens == "guarded" and _is_number(token_fields[-1])
    if len(token_fields) > 1 and (spaces_in_tokens == "none" or guarded):
        raise StaticFormatError(
            path,
            lineno,
            f"expected a word and {dim} values, got {_values_word(len(fields) - 1)} after {fields[0]!r}"
            + (
                " (if the word really has a space before a number, load with lenient_tokens=True)"
                if guarded
                else ""
            ),
        )
    try:
        vec = np.array(fields[-dim:], dtype=np.float32)
    except ValueError:
        for k, text in enumerate(fields[-dim:], start=1):
            if not _is_number(text):
                raise StaticFormatError(
                    path, lineno, f"value {k} of {dim} ({text[:30]!r}) is not a number{truncated}"
                ) from None
        raise
    if not np.isfinite(vec).all():
        k = int(np.flatnonzero(~np.isfinite(vec))[0]) + 1
        raise StaticFormatError(path, lineno, f"value {k} of {dim} is not finite ({fields[-dim + k - 1]!r})")
    token = " ".join(token_fields)
    if not token:
        raise StaticFormatError(path, lineno, "empty word")
    return token, vec


def _read_text(
    f: IO[bytes],
    path: Path,
    *,
    header: bool,
    dim: int | None,
    keep: Keep,
    max_rows: int | None,
    collector_factory: Callable[[int, int | None], _Collector],
    unicode_errors: str,
    spaces_in_tokens: str,
) -> tuple[list[str], np.ndarray, int]:
    declared: int | None = None
    lineno = 0
    if header:
        first = f.readline()
        lineno = 1
        if not first:
            raise StaticFormatError(path, 1, "the file is empty")
        declared, dim = _parse_header(first, path)
    pending: list[bytes] = []
    if dim is None:  # GloVe: the most common field count among the first lines
        counts: dict[int, int] = {}
        for head_line in f:
            pending.append(head_line)
            if head_line.strip():
                k = _trailing_numbers(head_line.rstrip(b"\r\n").rstrip(b" ").split(b" "))
                counts[k] = counts.get(k, 0) + 1
            if len(pending) >= 100:
                break
        if not counts:
            raise StaticFormatError(path, 1, "the file is empty")
        dim = max(counts, key=lambda k: (counts[k], k))
        if dim < 1:
            raise StaticFormatError(path, 1, "no vector values on the first lines")
    col = collector_factory(dim, declared)
    rows = 0

    def lines() -> Iterable[bytes]:
        yield from pending
        yield from f

    it = iter(lines())
    raw: bytes | None = next(it, None)
    while raw is not None:
        nxt = next(it, None)
        lineno += 1
        if not raw.strip():
            raw = nxt
            continue
        if declared is not None and rows >= declared:
            raise StaticFormatError(
                path,
                lineno,
                f"the header declares {declared} vectors but the file has more (header count mismatch)",
            )
        try:
            line = raw.decode("utf-8", errors=unicode_errors).rstrip("\r\n")
        except UnicodeDecodeError as e:
            raise StaticFormatError(
                path, lineno, f"invalid UTF-8 ({e.reason}); pass unicode_errors='replace' to load it anyway"
            ) from None
        word, vec = _parse_text_line(
            line, dim, path, lineno, spaces_in_tokens, last=nxt is None and not raw.endswith(b"\n")
        )
        rows += 1
        if keep(word):
            col.add(word, vec)
            if max_rows is not None and len(col.words) >= max_rows:
                break
        raw = nxt
    else:
        if declared is not None and rows < declared:
            raise StaticFormatError(
                path,
                lineno + 1,
                f"the header declares {declared} vectors but the "
                f"file ends after {rows} (truncated file or header count mismatch)",
            )
    words, matrix = col.result()
    _warn_duplicates(path, col)
    return words, matrix, dim


def _read_binary(
    f: IO[bytes],
    path: Path,
    *,
    keep: Keep,
    max_rows: int | None,
    collector_factory: Callable[[int, int | None], _Collector],
    unicode_errors: str,
) -> tuple[list[str], np.ndarray, int]:
    declared, dim = _parse_header(f.readline(), path)
    col = collector_factory(dim, declared)
    nbytes = 4 * dim
    chunk = max(1 << 20, 4 * nbytes)
    buf, pos = b"", 0

    def ensure(n: int) -> bool:
        """Make ``buf[pos:pos + n]`` available (compacting ``buf``); False at end of file."""
        nonlocal buf, pos
        if len(buf) - pos >= n:
            return True
        parts, have = [buf[pos:]], len(buf) - pos
        while have < n:
            more = f.read(max(chunk, n - have))
            if not more:
                break
            parts.append(more)
            have += len(more)
        buf, pos = b"".join(parts), 0
        return len(buf) >= n

    for i in range(declared):
        line = i + 2
        while (sp := buf.find(b" ", pos)) < 0:
            if not ensure(len(buf) - pos + 1):
                if buf[pos:].strip(b"\n"):
                    raise StaticFormatError(
                        path,
                        line,
                        f"record {i + 1} of {declared}: the file ends inside "
                        "the word (truncated binary file)",
                    )
                raise StaticFormatError(
                    path,
                    line,
                    f"the header declares {declared} vectors but the file "
                    f"ends after {i} (truncated file or header count mismatch)",
                )
        word_len = sp - pos
        if not ensure(word_len + 1 + nbytes):
            got = len(buf) - pos - word_len - 1
            word_bytes = buf[pos : pos + word_len].lstrip(b"\n")[:40]
            raise StaticFormatError(
                path,
                line,
                f"record {i + 1} of {declared} ({word_bytes!r}): the file ends "
                f"after {got} of the vector's {nbytes} bytes (truncated binary file, "
                "mid-vector)",
            )
        sp = pos + word_len
        start = sp + 1
        raw_word = buf[pos:sp].lstrip(b"\n")
        try:
            word = raw_word.decode("utf-8", errors=unicode_errors)
        except UnicodeDecodeError as e:
            raise StaticFormatError(
                path,
                line,
                f"record {i + 1}: word {raw_word[:40]!r} is not valid UTF-8 "
                f"({e.reason}); pass unicode_errors='replace' to load it anyway",
            ) from None
        if not word:
            raise StaticFormatError(path, line, f"record {i + 1}: empty word (misaligned binary file?)")
        pos = start + nbytes
        if keep(word):
            vec = np.frombuffer(buf, dtype="<f4", count=dim, offset=start)
            if not np.isfinite(vec).all():
                raise StaticFormatError(path, line, f"record {i + 1} ({word[:40]!r}) has non-finite values")
            col.add(word, vec)
            if max_rows is not None and len(col.words) >= max_rows:
                break
    else:
        rest = buf[pos:] + f.read(1 << 16)
        if rest.strip(b"\n\r "):
            raise StaticFormatError(
                path,
                declared + 2,
                f"the header declares {declared} vectors but more "
                "data follows (header count mismatch, or a different dimension)",
            )
    words, matrix = col.result()
    _warn_duplicates(path, col)
    return words, matrix, dim


def _warn_duplicates(path: Path, col: _Collector) -> None:
    if col.duplicates:
        logger.warning("%s: %d duplicate words; kept the first occurrence of each", path, col.duplicates)


def read_vectors(
    path: str | Path,
    format: str | None = None,
    *,
    max_vocab: int | None = None,
    vocab: Iterable[str] | None = None,
    unicode_errors: str = "strict",
    out: Callable[[int, int], np.ndarray] | None = None,
    lenient_tokens: bool = False,
) -> tuple[list[str], np.ndarray, str]:
    """Parse a word2vec or GloVe text/binary file into (words, float32 matrix, format).

    Parameters
    ----------
    path : path of the file (plain, .gz or .bz2).
    format : one of ``word2vec-binary``, ``word2vec-text``, ``glove-text``; sniffed if None.
    max_vocab : keep the first N words only (stops reading there).
    vocab : keep only these words (exact match, or lower-cased match).
    unicode_errors : ``"strict"`` (default) or ``"replace"``/``"ignore"`` for undecodable words.
    out : optional allocator ``(n_rows, dim) -> array`` used when the row count is known in
        advance (e.g. ``numpy.lib.format.open_memmap`` to convert without holding the matrix).
    lenient_tokens : GloVe text only: accept a token with a space whose last part is a number
        (by default such a line is refused as having too many values).
    """
    path = Path(path)
    fmt = format or sniff_format(path)
    if fmt not in FORMATS or fmt == "gensim":
        raise ValueError(f"read_vectors reads {FORMATS[:3]}, got format={fmt!r}")
    wanted = _vocab_filter(vocab)
    keep: Keep = wanted if wanted is not None else (lambda w: True)

    def factory(dim: int, declared: int | None) -> _Collector:
        if out is not None and declared is not None and wanted is None and max_vocab is None:
            return _Collector(dim, declared, out(declared, dim))
        if declared is not None and wanted is None:  # the row count is known: allocate once
            return _Collector(dim, min(declared, max_vocab or declared))
        return _Collector(dim, min(x for x in (declared, max_vocab, 1 << 16) if x is not None))

    with _open(path) as f:
        if fmt == "word2vec-binary":
            words, matrix, _ = _read_binary(
                f,
                path,
                keep=keep,
                max_rows=max_vocab,
                collector_factory=factory,
                unicode_errors=unicode_errors,
            )
        else:
            words, matrix, _ = _read_text(
                f,
                path,
                header=fmt == "word2vec-text",
                dim=None,
                keep=keep,
                max_rows=max_vocab,
                collector_factory=factory,
                unicode_errors=unicode_errors,
                spaces_in_tokens=("any" if lenient_tokens else "guarded") if fmt == "glove-text" else "none",
            )
    if not words:
        raise StaticFormatError(path, 1, "no vectors kept (empty file, or none of the requested words)")
    return words, matrix, fmt


def _vocab_filter(vocab: Iterable[str] | None) -> Keep | None:
    if vocab is None:
        return None
    exact = set(vocab)
    lower = {w.lower() for w in exact}
    return lambda w: w in exact or w.lower() in lower


# -- gensim native files, unpickled safely -------------------------------------------------
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


# -- the loader ----------------------------------------------------------------------------
def _weights_identity(path: Path) -> str:
    """sha256 of the file, or for big files of its size and three 4 MiB samples."""
    st = path.stat()
    h = hashlib.sha256()
    with open(path, "rb") as f:
        if st.st_size <= FULL_HASH_LIMIT:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
            return "sha256:" + h.hexdigest()
        h.update(str(st.st_size).encode())
        for offset in (0, st.st_size // 2, max(0, st.st_size - (4 << 20))):
            f.seek(offset)
            h.update(f.read(4 << 20))
    return "sampled-sha256:" + h.hexdigest()


def _detect_uncased(words: list[str], sample: int = 20000) -> bool:
    """True when no word among the first ``sample`` has an upper-case letter."""
    return not any(w != w.lower() for w in words[:sample])


def _restrict(
    words: list[str], vectors: np.ndarray, max_vocab: int | None, vocab: Iterable[str] | None
) -> tuple[list[str], np.ndarray]:
    if max_vocab is not None:
        words, vectors = words[:max_vocab], vectors[:max_vocab]
    keep = _vocab_filter(vocab)
    if keep is not None:
        idx = [i for i, w in enumerate(words) if keep(w)]
        words, vectors = [words[i] for i in idx], np.asarray(vectors[idx])
    return words, vectors


def keyed_vectors(words: list[str], vectors: np.ndarray) -> KeyedVectors:
    """A gensim KeyedVectors over existing arrays (no copy; a memmap stays a memmap)."""
    kv = KeyedVectors(vector_size=int(vectors.shape[1]), count=0)
    kv.index_to_key = list(words)
    kv.key_to_index = {w: i for i, w in enumerate(words)}
    kv.vectors = vectors
    return kv


def load_static_file(
    path: str | Path,
    *,
    family: str,
    format: str | None = None,
    max_vocab: int | None = None,
    vocab: Iterable[str] | None = None,
    lowercase: bool | None = None,
    mmap: bool | None = None,
    name: str | None = None,
    checkpoint: str | None = None,
    unicode_errors: str = "strict",
    weights_id: str | None = None,
    lenient_tokens: bool = False,
) -> StaticEmbedder:
    """Load any static vector file as a :class:`StaticEmbedder`.

    Parameters
    ----------
    path : str or Path
        The file (``.bin``, ``.txt``, ``.vec``, ``.kv``, ``.model``; plain, .gz or .bz2).
    family : {'word2vec', 'glove', 'other'}
    format : one of :data:`FORMATS`, or None to sniff it from the file.
    max_vocab : int, optional
        Keep the first N words (word2vec and GloVe files are in frequency order).
    vocab : iterable of str, optional
        Keep only these words (matching exactly or lower-cased), e.g. the words a suite's
        datasets need (:func:`bench.datasets.words.suite_words`).
    lowercase : bool, optional
        Look words up lower-cased. None: True when the first 20,000 words have no upper-case
        letter (an uncased model such as GloVe 6B/42B), else False (GoogleNews, GloVe 840B).
    mmap : bool, optional
        Memory-map the matrix: gensim files are loaded with ``mmap='r'``; text/binary files
        are converted once into the cache and mapped afterwards. None: True for files of
        1 GiB or more, or when a conversion already exists.
    name, checkpoint : str, optional
        Registry name and human label (defaults name the file).
    unicode_errors : str
        How undecodable words are handled ('strict' raises naming the line).
    weights_id : str, optional
        Identity of the weights for the fingerprint; default: a sha256 of the file (sampled
        for files over 256 MiB).
    lenient_tokens : bool
        GloVe text: read a line with one or more values too many as a token containing spaces
        even when the token's last part is a number (refused by default as a wrong dimension).
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    if format is not None and format not in FORMATS:
        raise ValueError(f"format={format!r}; known formats: {', '.join(FORMATS)}")
    if max_vocab is not None and int(max_vocab) < 1:
        raise ValueError(f"max_vocab must be a positive integer, got {max_vocab}")
    fmt = format or sniff_format(path)
    vocab_list = sorted(set(vocab)) if vocab is not None else None
    if fmt == "gensim":
        # gensim stores big arrays beside the pickle (<name>.vectors.npy): count them too
        size = sum(f.stat().st_size for f in [path, *path.parent.glob(f"{path.name}.*.npy")])
        kv = load_gensim_native(path, mmap=bool(mmap) if mmap is not None else size >= MMAP_THRESHOLD)
        words, vectors = _restrict(list(kv.index_to_key), kv.vectors, max_vocab, vocab_list)
        if max_vocab is not None or vocab_list is not None:
            kv = keyed_vectors(words, vectors)
        mapped = isinstance(kv.vectors, np.memmap)
    else:
        converted = converted_dir(path, fmt, unicode_errors, lenient_tokens)
        if mmap is None:
            has_cache = (converted / "vectors.npy").is_file()
            restricted = max_vocab is not None or vocab_list is not None
            mmap = has_cache or (path.stat().st_size >= MMAP_THRESHOLD and not restricted)
        if mmap:
            directory = convert_to_npy(
                path, fmt, unicode_errors=unicode_errors, lenient_tokens=lenient_tokens
            )
            words, vectors = load_converted(directory)
            words, vectors = _restrict(words, vectors, max_vocab, vocab_list)
        else:
            words, vectors, fmt = read_vectors(
                path,
                fmt,
                max_vocab=max_vocab,
                vocab=vocab_list,
                unicode_errors=unicode_errors,
                lenient_tokens=lenient_tokens,
            )
        kv = keyed_vectors(words, vectors)
        mapped = bool(mmap)
    if len(kv) == 0:
        raise StaticFormatError(path, 1, "no vectors kept")
    if lowercase is None:
        lowercase = _detect_uncased(list(kv.index_to_key))
    restriction = ""
    if max_vocab is not None:
        restriction += f", first {max_vocab}"
    if vocab_list is not None:
        restriction += f", restricted to {len(kv)} of the {len(vocab_list)} requested words"
    label = checkpoint or (
        f"{path.name} ({fmt}, {len(kv)} x {kv.vector_size}{restriction}, "
        f"{'lower-cased' if lowercase else 'cased'} lookup)"
    )
    # the options that rebuild this model through embeddings.load("word2vec"/"glove", **options)
    options: dict[str, Any] = {"path": str(path), "format": fmt, "lowercase": bool(lowercase)}
    if max_vocab is not None:
        options["max_vocab"] = int(max_vocab)
    if vocab_list is not None:
        options["vocab"] = vocab_list
    if unicode_errors != "strict":
        options["unicode_errors"] = unicode_errors
    if lenient_tokens:
        options["lenient_tokens"] = True
    emb = StaticEmbedder(
        kv,
        name=name or f"{family}:{path.name}",
        family=family,
        lowercase=bool(lowercase),
        checkpoint=label,
        weights_id=weights_id or _weights_identity(path),
        options=options,
        registry_name=family if name is None else name,
    )
    emb.mmapped = mapped  # how it is held, not what it is: kept out of config() and the fingerprint
    return emb


def save_word2vec_binary(path: str | Path, words: list[str], vectors: np.ndarray) -> None:
    """Write the word2vec C tool's binary format (header, then ``word<space><float32s>\\n``)."""
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    with open(path, "wb") as f:
        f.write(f"{len(words)} {vectors.shape[1]}\n".encode())
        for word, vec in zip(words, vectors, strict=True):
            if " " in word or "\n" in word or not word:
                raise ValueError(f"word {word!r} cannot be written in word2vec binary format")
            f.write(word.encode("utf-8") + b" " + vec.tobytes() + b"\n")


__all__ = [
    "FORMATS",
    "StaticFormatError",
    "convert_to_npy",
    "keyed_vectors",
    "load_gensim_native",
    "load_static_file",
    "read_vectors",
    "save_word2vec_binary",
    "sniff_format",
]
