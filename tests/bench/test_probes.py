"""Data-quality and reader tests for the authored probes (bench/probes)."""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path

import pytest

from bench.probes import (
    CUES,
    MIXED_POS_WORDS,
    ProbeItem,
    load_direction_probe,
    load_polysemy_probe,
    neutral_side,
    read_probe,
)
from bench.validation import DatasetFormatError

POLY_HEADER = "word\tsense\tsentence\ttarget_index\n"
DIR_HEADER = "word\tsense\tcue\tsentence\ttarget_index\n"


@pytest.fixture(scope="module")
def poly() -> list[ProbeItem]:
    return load_polysemy_probe()


@pytest.fixture(scope="module")
def direction() -> list[ProbeItem]:
    return load_direction_probe()


def _senses_by_word(items: list[ProbeItem]) -> dict[str, set[str]]:
    senses: dict[str, set[str]] = defaultdict(set)
    for item in items:
        senses[item.word].add(item.sense)
    return senses


# --- polysemy probe --------------------------------------------------------------------------

def test_polysemy_has_at_least_40_words(poly: list[ProbeItem]) -> None:
    assert len(_senses_by_word(poly)) >= 40


def test_polysemy_two_to_four_senses_per_word(poly: list[ProbeItem]) -> None:
    bad = {w: sorted(s) for w, s in _senses_by_word(poly).items() if not 2 <= len(s) <= 4}
    assert not bad, f"words without 2-4 senses: {bad}"


def test_polysemy_at_least_six_sentences_per_sense(poly: list[ProbeItem]) -> None:
    counts = Counter(item.sense for item in poly)
    thin = {s: n for s, n in counts.items() if n < 6}
    assert not thin, f"senses with fewer than 6 sentences: {thin}"


def test_polysemy_items_are_well_formed(poly: list[ProbeItem]) -> None:
    for item in poly:
        assert item.cue is None
        assert item.sense.split(".", 1)[0] == item.word
        assert item.sentence[item.target_index].lower() == item.word
        # the target occurs exactly once, so the index is unambiguous
        assert [t.lower() for t in item.sentence].count(item.word) == 1, item.sentence
        n_words = sum(any(c.isalnum() for c in t) for t in item.sentence)
        assert 6 <= n_words <= 25, (n_words, item.sentence)


def test_sense_labels_are_one_spelling_per_word(poly: list[ProbeItem]) -> None:
    # a sense label must not differ only in case or spacing from another one of the same word
    for word, senses in _senses_by_word(poly).items():
        normalized = {s.lower().replace("_", "").replace("-", "") for s in senses}
        assert len(normalized) == len(senses), (word, sorted(senses))


# --- direction probe -------------------------------------------------------------------------

def test_direction_covers_at_least_30_probe_words(poly: list[ProbeItem], direction: list[ProbeItem]) -> None:
    words = {item.word for item in direction}
    assert len(words) >= 30
    poly_senses = {item.sense for item in poly}
    unknown = {item.sense for item in direction} - poly_senses
    assert not unknown, f"direction senses missing from the polysemy probe: {sorted(unknown)}"


def test_direction_has_both_cues_with_four_each(direction: list[ProbeItem]) -> None:
    counts = Counter((item.sense, item.cue) for item in direction)
    senses = {item.sense for item in direction}
    thin = {(s, c): counts[(s, c)] for s in senses for c in CUES if counts[(s, c)] < 4}
    assert not thin, f"(sense, cue) with fewer than 4 sentences: {thin}"


def test_direction_words_have_at_least_two_senses(direction: list[ProbeItem]) -> None:
    one = {w: s for w, s in _senses_by_word(direction).items() if len(s) < 2}
    assert not one


def test_direction_items_are_well_formed(direction: list[ProbeItem]) -> None:
    for item in direction:
        assert item.cue in CUES
        assert item.sentence[item.target_index].lower() == item.word
        assert [t.lower() for t in item.sentence].count(item.word) == 1, item.sentence


def test_direction_cue_side_has_words(direction: list[ProbeItem]) -> None:
    # the side that carries the cue (before the target for "before", after it for "after")
    # must hold at least two words, punctuation aside
    for item in direction:
        i = item.target_index
        cue_side = item.sentence[:i] if item.cue == "before" else item.sentence[i + 1:]
        assert sum(any(c.isalnum() for c in t) for t in cue_side) >= 2, item.sentence


def test_direction_sets_are_matched(direction: list[ProbeItem]) -> None:
    # For one word and cue, every sense has the same multiset of neutral sides: cue-after
    # sentences share their words before the target, cue-before ones their words after it.
    Sides = dict[str, Counter[tuple[str, ...]]]
    sides: dict[tuple[str, str], Sides] = defaultdict(lambda: defaultdict(Counter))
    for item in direction:
        neutral = neutral_side(item)
        i = item.target_index
        assert neutral == (item.sentence[:i] if item.cue == "after" else item.sentence[i + 1:])
        sides[(item.word, item.cue or "")][item.sense][tuple(t.lower() for t in neutral)] += 1
    for (word, cue), by_sense in sides.items():
        first, *rest = by_sense.values()
        assert all(other == first for other in rest), (word, cue, {s: sorted(c) for s, c in by_sense.items()})


def test_mixed_pos_words_stay_out_of_the_direction_probe(poly: list[ProbeItem],
                                                         direction: list[ProbeItem]) -> None:
    assert MIXED_POS_WORDS <= {item.word for item in poly}
    assert MIXED_POS_WORDS & {item.word for item in direction} == {"row"}
    assert {item.sense for item in direction if item.word == "row"} == {"row.line", "row.argument"}


def test_no_inflected_form_of_the_target_elsewhere(poly: list[ProbeItem], direction: list[ProbeItem]) -> None:
    # "The cell divides into two cells" would give the model a second copy of the word
    for item in poly + direction:
        w = item.word
        forms = {w + "s", w + "es", w + "ed", w + w[-1] + "ed", w + "ing", w + w[-1] + "ing", w + "'s"}
        clash = [t for t in item.sentence if t.lower() in forms]
        assert not clash, (clash, " ".join(item.sentence))


def test_neutral_side_rejects_polysemy_items(poly: list[ProbeItem]) -> None:
    with pytest.raises(ValueError, match="direction-probe item"):
        neutral_side(poly[0])


def test_no_sentence_is_used_twice(poly: list[ProbeItem], direction: list[ProbeItem]) -> None:
    counts = Counter(" ".join(item.sentence).lower() for item in poly + direction)
    dup = [s for s, n in counts.items() if n > 1]
    assert not dup, f"duplicate sentences: {dup[:5]}"


# --- reader ----------------------------------------------------------------------------------

def test_read_probe_round_trip(tmp_path: Path) -> None:
    p = tmp_path / "d.tsv"
    p.write_text(DIR_HEADER + "bat\tbat.animal\tafter\tThe bat flew out of the cave .\t1\n")
    (item,) = read_probe(p, with_cue=True)
    assert item == ProbeItem("bat", "bat.animal", ("The", "bat", "flew", "out", "of", "the", "cave", "."), 1,
                             "after")


@pytest.mark.parametrize(
    ("body", "with_cue", "problem"),
    [
        ("bank\tbank.river\tWe sat on the bank .\n", False, "expected 4 tab-separated columns"),
        ("bank\tbank.river\tWe sat on the bank .\tx\n", False, "not an integer"),
        ("bank\tbank.river\tWe sat on the bank .\t9\n", False, "outside the sentence"),
        ("bank\tbank.river\tWe sat on the bank .\t3\n", False, "expected the target word 'bank'"),
        ("bank\triver\tWe sat on the bank .\t4\n", False, "must look like 'bank.<label>'"),
        ("bank\tbank.river\tsideways\tWe sat on the bank .\t4\n", True, "cue 'sideways'"),
        ("bank\tbank.river\t\tWe sat on the bank .\t4\n", True, "empty field"),
    ],
)
def test_malformed_row_names_file_and_line(tmp_path: Path, body: str, with_cue: bool, problem: str) -> None:
    p = tmp_path / "bad.tsv"
    cue = "before\t" if with_cue else ""
    good = f"bank\tbank.money\t{cue}She paid the bank .\t3\n"
    p.write_text((DIR_HEADER if with_cue else POLY_HEADER) + good + body)
    with pytest.raises(DatasetFormatError) as err:
        read_probe(p, with_cue=with_cue)
    assert err.value.line == 3
    assert str(err.value).startswith(f"{p}:3: ")
    assert problem in str(err.value)


def test_wrong_header_is_rejected(tmp_path: Path) -> None:
    p = tmp_path / "bad.tsv"
    p.write_text("word\tsense\tsentence\n")
    with pytest.raises(DatasetFormatError, match=r"bad\.tsv:1: header"):
        read_probe(p, with_cue=False)
