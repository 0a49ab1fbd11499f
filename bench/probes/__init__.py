"""Authored probe sentences: the polysemy probe and the direction probe.

Both probes are tab-separated files shipped inside the package (``polysemy.tsv`` and
``direction.tsv``, see ``README.md`` next to them for how they were written). Each row is
one sentence, already split into space-separated tokens, with the position of one
ambiguous target word and its sense label (``"bank.river"``). The direction probe adds
``cue``: ``"before"`` when only the words before the target tell the sense, ``"after"``
when only the words after it do.

The direction probe is built as matched sets: for one word and cue, each sense has the same
neutral sides (:func:`neutral_side`). A cue-after sentence therefore has a "twin" of the
other sense with identical words up to and including the target, so a left-to-right model
gives the twins identical vectors. Score direction items against the polysemy probe (e.g.
nearest sense centroid), or leave twins out of each other's neighbours: a leave-one-out
1-NN that lets an item meet its twin is wrong by construction (accuracy 0, below chance).

Every row is validated on reading; a bad row raises
:class:`~bench.validation.DatasetFormatError` naming the file and line.

Examples
--------
>>> items = load_polysemy_probe()
>>> item = items[0]
>>> item.sentence[item.target_index].lower() == item.word
True
>>> item.sense.startswith(item.word + ".")
True
>>> sorted({i.cue for i in load_direction_probe()})
['after', 'before']
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from bench.validation import DatasetFormatError, read_text

__all__ = ["ProbeItem", "load_polysemy_probe", "load_direction_probe", "read_probe", "neutral_side",
           "CUES", "MIXED_POS_WORDS"]

#: allowed values of the direction probe's ``cue`` column
CUES = ("before", "after")

#: polysemy-probe words whose senses differ in part of speech (e.g. ``fire`` the noun vs
#: ``fire`` the verb "dismiss"): for these, syntax alone can tell the senses apart, so tasks
#: may want to report them separately. The direction probe uses only senses that share a part
#: of speech; of these words it has only ``row``, with its two noun senses (line, argument).
MIXED_POS_WORDS = frozenset({"current", "fair", "fire", "light", "mine", "park", "right", "row", "sink",
                             "train", "watch"})

_POLYSEMY_HEADER = ("word", "sense", "sentence", "target_index")
_DIRECTION_HEADER = ("word", "sense", "cue", "sentence", "target_index")


@dataclass(frozen=True)
class ProbeItem:
    """One probe sentence with its target word.

    Attributes
    ----------
    word : str
        The ambiguous word, lower case, exactly as it appears in the sentence (up to case).
    sense : str
        Sense label ``"<word>.<sense>"``, e.g. ``"bank.river"``.
    sentence : tuple of str
        The sentence as tokens (words and punctuation).
    target_index : int
        Position of ``word`` in ``sentence`` (0-based).
    cue : str or None
        Direction probe only: ``"before"`` or ``"after"`` (where the disambiguating words
        are); ``None`` for the polysemy probe.
    """

    word: str
    sense: str
    sentence: tuple[str, ...]
    target_index: int
    cue: str | None = None


def read_probe(path: str | Path, *, with_cue: bool, text: str | None = None) -> list[ProbeItem]:
    """Read and validate one probe TSV file.

    Parameters
    ----------
    path : str or Path
        The file (also used as the name in error messages when ``text`` is given).
    with_cue : bool
        True for the direction-probe layout (with a ``cue`` column), False for the
        polysemy-probe layout.
    text : str, optional
        The file's contents, if already read (e.g. from package resources).

    Returns
    -------
    list of ProbeItem
        In file order.

    Raises
    ------
    DatasetFormatError
        On a wrong header, a wrong column count, an empty field, a bad index, a target token
        that is not the word, a sense label not of the form ``word.sense`` or an unknown cue.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "p.tsv"
    >>> _ = p.write_text("word\\tsense\\tsentence\\ttarget_index\\n"
    ...                  "bank\\tbank.river\\tWe sat on the bank .\\t4\\n")
    >>> read_probe(p, with_cue=False)[0].sentence
    ('We', 'sat', 'on', 'the', 'bank', '.')
    >>> _ = p.write_text("word\\tsense\\tsentence\\ttarget_index\\n"
    ...                  "bank\\tbank.river\\tWe sat on the bank .\\t3\\n")
    >>> read_probe(p, with_cue=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    bench.validation.DatasetFormatError: ...p.tsv:2: token 3 is 'the', expected the target word 'bank'...
    """
    if text is None:
        text = read_text(path)
    header = _DIRECTION_HEADER if with_cue else _POLYSEMY_HEADER
    items: list[ProbeItem] = []
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    if not lines:
        raise DatasetFormatError(path, 0, "empty file: expected a header line " + "\\t".join(header))
    got_header = tuple(lines[0].rstrip("\r").split("\t"))
    if got_header != header:
        raise DatasetFormatError(path, 1, f"header is {str(got_header)[:120]}, expected {header} (tab-separated)")
    seen: dict[ProbeItem, int] = {}  # a repeated row would count twice in every score
    for lineno, raw in enumerate(lines[1:], start=2):
        line = raw.rstrip("\r")
        if not line.strip():
            continue
        item = _parse_row(line, path, lineno, with_cue, len(header))
        if item in seen:
            raise DatasetFormatError(path, lineno, f"the same row as line {seen[item]}")
        seen[item] = lineno
        items.append(item)
    if not items:
        raise DatasetFormatError(path, 1, "header only, no probe rows")
    return items


def _parse_row(line: str, path: str | Path, lineno: int, with_cue: bool, ncols: int) -> ProbeItem:
    cols = line.split("\t")
    if len(cols) != ncols:
        raise DatasetFormatError(path, lineno, f"expected {ncols} tab-separated columns, got {len(cols)}: "
                                               f"{line[:60]!r}")
    if any(not c.strip() for c in cols):
        raise DatasetFormatError(path, lineno, "empty field")
    if with_cue:
        word, sense, cue, sentence_text, index_text = cols
        if cue not in CUES:
            raise DatasetFormatError(path, lineno, f"cue {cue[:20]!r} is not one of {CUES}")
    else:
        word, sense, sentence_text, index_text = cols
        cue = None
    if word != word.lower() or " " in word:
        raise DatasetFormatError(path, lineno, f"word {word[:40]!r} must be one lower-case token")
    if not sense.startswith(word + ".") or len(sense) == len(word) + 1:
        raise DatasetFormatError(path, lineno, f"sense {sense[:60]!r} must look like '{word[:40]}.<label>'")
    tokens = tuple(sentence_text.split(" "))
    if any(not t for t in tokens):
        raise DatasetFormatError(path, lineno, "sentence has an empty token (double or edge space)")
    try:
        index = int(index_text)
    except ValueError:
        raise DatasetFormatError(path, lineno, f"target_index {index_text[:20]!r} is not an integer") from None
    if not 0 <= index < len(tokens):
        raise DatasetFormatError(path, lineno, f"target_index {index} is outside the sentence "
                                               f"(0..{len(tokens) - 1})")
    if tokens[index].lower() != word:
        raise DatasetFormatError(path, lineno, f"token {index} is {tokens[index][:40]!r}, expected the target "
                                               f"word {word[:40]!r}; fix target_index")
    return ProbeItem(word, sense, tokens, index, cue)


def neutral_side(item: ProbeItem) -> tuple[str, ...]:
    """The tokens on the sense-neutral side of a direction-probe item's target.

    For ``cue == "after"`` that is everything before the target; for ``cue == "before"``
    everything after it. Two items of the same word and cue with equal neutral sides but
    different senses are twins (see the module docstring).

    Raises
    ------
    ValueError
        For an item without a cue (a polysemy-probe item).

    Examples
    --------
    >>> item = ProbeItem("bank", "bank.river", ("We", "sat", "on", "the", "bank", "all", "day", "."), 4,
    ...                  "before")
    >>> neutral_side(item)
    ('all', 'day', '.')
    """
    if item.cue == "after":
        return item.sentence[: item.target_index]
    if item.cue == "before":
        return item.sentence[item.target_index + 1:]
    raise ValueError(f"item has cue {item.cue!r}; neutral_side needs a direction-probe item (cue in {CUES})")


def _load(filename: str, with_cue: bool) -> list[ProbeItem]:
    resource = resources.files(__name__).joinpath(filename)
    text = resource.read_text(encoding="utf-8")
    return read_probe(f"bench/probes/{filename}", with_cue=with_cue, text=text)


def load_polysemy_probe() -> list[ProbeItem]:
    """The polysemy probe: ambiguous words, 2-4 senses each, 6 or more sentences per sense.

    Returns
    -------
    list of ProbeItem
        ``cue`` is None for every item.
    """
    return _load("polysemy.tsv", with_cue=False)


def load_direction_probe() -> list[ProbeItem]:
    """The direction probe: the sense cue only before the target, or only after it.

    Returns
    -------
    list of ProbeItem
        ``cue`` is ``"before"`` or ``"after"``.
    """
    return _load("direction.tsv", with_cue=True)
