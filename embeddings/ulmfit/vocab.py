"""The vocabulary of an AWD-LSTM language model, and safe reading of fastai's pickled one.

fastai saves a language model's vocabulary (``itos``, index -> string) as a pickled Python
list of str (WT103: ``itos_wt103.pkl``, 60,000 entries). A pickle can run arbitrary code
when loaded, so :func:`read_itos_pickle` uses a restricted unpickler: it resolves NO global
(no class, no function: ``os.system`` and friends are refused at lookup) and then checks
that the result is a list whose every item is a str. Anything else is refused with an
error naming the file. The project's own format stores the same list as JSON.

Examples
--------
>>> v = Vocab(["xxunk", "xxpad", "xxbos", "the", "bank"])
>>> v.index("bank"), v.index("zebra"), len(v)
(4, 0, 5)
"""

from __future__ import annotations

import io
import json
import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from embeddings.support.errors import CtxbenchError
from embeddings.support.jsonfile import read_json

UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ = (
    "xxunk xxpad xxbos xxeos xxfld xxrep xxwrep xxup xxmaj".split()
)
#: fastai's special tokens, in fastai's order (the first entries of every fastai vocabulary)
SPECIAL_TOKENS: tuple[str, ...] = (UNK, PAD, BOS, EOS, FLD, TK_REP, TK_WREP, TK_UP, TK_MAJ)


class UnsafeVocabulary(CtxbenchError, ValueError):
    """A vocabulary file is not a plain list of strings; it was refused, not loaded."""


class _ListOfStrUnpickler(pickle.Unpickler):
    """Unpickler that refuses every global: only built-in containers and scalars remain."""

    def __init__(self, file: io.BufferedIOBase, path: Path) -> None:
        super().__init__(file)
        self._path = path

    def find_class(self, module: str, name: str) -> Any:
        raise UnsafeVocabulary(
            f"{self._path}: the pickle references {module}.{name}; a vocabulary pickle may "
            f"hold only a list of str, so the file was refused (nothing in it was run)"
        )

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafeVocabulary(f"{self._path}: the pickle uses persistent ids; refused")


def read_itos_pickle(path: str | Path) -> list[str]:
    """Read a fastai ``itos`` pickle: a list of str, refusing anything else.

    Parameters
    ----------
    path : path to the ``.pkl`` file.

    Returns
    -------
    list of str, index -> token.

    Raises
    ------
    UnsafeVocabulary
        The pickle references any global (class, function), or holds anything but a
        non-empty list of str (a dict, a tuple, a list with a non-str item ...).
    """
    path = Path(path)
    with open(path, "rb") as f:
        try:
            obj = _ListOfStrUnpickler(f, path).load()
        except UnsafeVocabulary:
            raise
        except Exception as e:  # truncated or not a pickle at all
            raise UnsafeVocabulary(f"{path}: not a readable pickle ({type(e).__name__}: {e})") from e
    return _check_list_of_str(obj, path)


def read_vocab_json(path: str | Path) -> list[str]:
    """Read the project's own vocabulary file: a JSON list of str."""
    path = Path(path)
    obj = read_json(path)  # FileFormatError with file:line for invalid JSON or UTF-8
    return _check_list_of_str(obj, path)


def write_vocab_json(itos: Sequence[str], path: str | Path) -> None:
    """Write ``itos`` as a JSON list (the caller makes the write atomic)."""
    Path(path).write_text(json.dumps(list(itos), ensure_ascii=False), encoding="utf-8")


def _check_list_of_str(obj: object, path: Path) -> list[str]:
    """``obj`` itself once it is checked to be a non-empty list of str; UnsafeVocabulary otherwise."""
    if not isinstance(obj, list):
        raise UnsafeVocabulary(
            f"{path}: a vocabulary must be a list of str (index -> token), got {type(obj).__name__}; refused"
        )
    if not obj:
        raise UnsafeVocabulary(f"{path}: the vocabulary list is empty")
    for i, tok in enumerate(obj):
        if not isinstance(tok, str):
            raise UnsafeVocabulary(
                f"{path}: vocabulary item {i} is {type(tok).__name__}, not str; a vocabulary must be a "
                f"list of str; refused"
            )
    return obj


class Vocab:
    """Index <-> token mapping; unknown tokens map to ``xxunk``.

    Parameters
    ----------
    itos : sequence of str
        Index -> token. Must contain ``xxunk``. Duplicates keep their first index (fastai
        vocabularies can repeat a token; the first occurrence is the one the LM predicts).
    """

    def __init__(self, itos: Sequence[str]) -> None:
        self.itos: list[str] = list(itos)
        self.stoi: dict[str, int] = {}
        for i, tok in enumerate(self.itos):
            self.stoi.setdefault(tok, i)
        if UNK not in self.stoi:
            raise ValueError(f"vocabulary of {len(self.itos)} tokens has no {UNK!r}; "
                             f"it cannot map unknown words")
        self.unk_id = self.stoi[UNK]

    def __len__(self) -> int:
        return len(self.itos)

    def __contains__(self, token: str) -> bool:
        return token in self.stoi

    def index(self, token: str) -> int:
        """Id of ``token``, or the id of ``xxunk``."""
        return self.stoi.get(token, self.unk_id)
