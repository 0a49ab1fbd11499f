"""The words a set of datasets needs: for loading only those rows of a big static model.

``embeddings.load("word2vec-google-news-300", vocab=suite_words(["simlex999", "men"]))``
keeps a few thousand of GoogleNews' 3M vectors. Analogy datasets need candidate answers
from the whole restricted vocabulary, so restrict those with ``max_vocab`` instead.

>>> words = suite_words(["mc30"])
>>> {"car", "automobile"} <= words
True
"""

from __future__ import annotations

from collections.abc import Iterable


def suite_words(datasets: Iterable[str]) -> set[str]:
    """Every word of the given word-pair or analogy datasets (as written in the files)."""
    from bench.datasets.analogy import _READERS, load_questions
    from bench.datasets.similarity import PAIR_FORMATS, load_pairs

    out: set[str] = set()
    for name in datasets:
        if name in PAIR_FORMATS:
            out.update(w for a, b, _ in load_pairs(name) for w in (a, b))
        elif name in _READERS:
            out.update(w for q in load_questions(name) for w in q[:4])
        else:
            raise KeyError(
                f"{name!r} is not a word-pair or analogy dataset; pair datasets: "
                f"{sorted(PAIR_FORMATS)}, analogy datasets: {sorted(_READERS)}"
            )
    return out
