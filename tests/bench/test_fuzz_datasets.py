"""Fuzzing the dataset parsers (bench/datasets/*, bench/probes): damaged files are refused with
file:line, or read into sound items; never another exception, never a hang.

Each generator starts from a valid file in the dataset's own layout (see tests/fuzzing.py);
after the fuzz tests, example tests pin the holes the fuzzing found.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

import pytest
from fuzzing import (
    FUZZ,
    check_refused_or_valid,
    damaged,
    damaged_json,
    fuzz_settings,
    is_finite_number,
    json_has_duplicate_keys,
)
from hypothesis import given
from hypothesis import strategies as st

from bench.datasets.analogy import read_questions_words, read_vecto_csv
from bench.datasets.classification import TREC_CLASSES, read_sentences, read_trec, read_tsv
from bench.datasets.coarsewsd import read_classes, read_split
from bench.datasets.corpora import read_brown_zip
from bench.datasets.scws import RATING_RANGE, read_scws
from bench.datasets.similarity import PairFormat, read_pairs
from bench.datasets.wic import POS_TAGS, read_wic
from bench.probes import CUES, read_probe
from bench.validation import DatasetFormatError

# -- valid examples, one per layout ------------------------------------------------------------
PAIR_LAYOUTS = {
    "three-columns": (PairFormat(sep="\t"), "tiger\tcat\t7.35\nbook\tpaper\t7.46\ncomputer\tkeyboard\t7.62\n"
                      "plane\tcar\t5.77\ntrain\tcar\t6.31\n"),
    "ws353-header": (PairFormat(sep="\t", header=1), "Word 1\tWord 2\tHuman (mean)\nlove\tsex\t6.77\n"
                     "tiger\tcat\t7.35\ntiger\ttiger\t10.00\nbook\tpaper\t7.46\n"),
    "simlex": (PairFormat(sep="\t", header=1, score=3),
               "word1\tword2\tPOS\tSimLex999\tconc(w1)\tconc(w2)\tconcQ\tAssoc(USF)\tSimAssoc333\tSD(SimLex)\n"
               "old\tnew\tA\t1.58\t2.72\t2.81\t2\t7.25\t1\t0.41\n"
               "smart\tintelligent\tA\t9.2\t1.75\t2.46\t1\t7.11\t1\t0.67\n"
               "hard\tdifficult\tA\t8.77\t3.76\t2.21\t2\t5.94\t1\t1.19\n"),
    "men-space": (PairFormat(sep=" "), "sun sunlight 50.000000\nautomobile car 50.000000\nriver water 49.000000\n"
                  "stair staircase 49.000000\n"),
    "simverb": (PairFormat(sep="\t", header=1, score=3), "w1\tw2\tpos\tscore\twn\ntake\tremove\tV\t6.81\tSYNONYMS\n"
                "walk\tallow\tV\t0.83\tNONE\nrun\tjog\tV\t8.4\tHYPER/HYPONYMS\n"),
    "crlf": (PairFormat(sep="\t"), "car\tautomobile\t3.92\r\ngem\tjewel\t3.84\r\njourney\tvoyage\t3.84\r\n"),
}

QUESTIONS_WORDS = (": capital-common-countries\nAthens Greece Baghdad Iraq\nAthens Greece Bangkok Thailand\n"
                   ": family\nboy girl brother sister\nboy girl brothers sisters\n"
                   ": gram1-adjective-to-adverb\namazing amazingly apparent apparently\n")
VECTO_CSV = (",type,word1,word2,word3,target\n0,JJ_JJR,good,better,rough,rougher\n"
             "1,JJ_JJR,good,better,tough,tougher\n2,NN_NNS,year,years,law,laws\n3,VB_VBD,see,saw,go,went\n")
WIC_DATA = ("carry\tV\t2-1\tYou must carry your camping gear .\tSound carries well over water .\n"
            "go\tV\t2-6\tThe pain went away .\tThe horse had lost its chance to go ahead and went .\n"
            "bank\tN\t3-1\tWe sat on bank .\tThe bank closed .\n")
WIC_GOLD = "F\nT\nF\n"
SCWS_ROWS = [
    ["1", "Brazil", "n", "nut", "n", "gap in income between <b> Brazil </b> 's rich and poor",
     "the shell of a <b> nut </b> is hard", "1.1", "0", "0", "0", "0", "0", "0", "6", "0", "5", "0"],
    ["2", "bank", "n", "money", "n", "the <b> bank </b> of the river", "no <b> money </b> left", "2.5"] + ["2"] * 10,
    ["3", "plant", "n", "factory", "n", "a power <b> plant </b> closed", "the <b> factory </b> floor", "8.75"]
    + ["9"] * 10,
]
SCWS_TEXT = "".join("\t".join(r) + "\n" for r in SCWS_ROWS)
CWSD_DATA = "1\tthe bank lent money\n0\tbank of the river\n3\twe sat by the bank .\n"
CWSD_GOLD = "0\n1\n1\n"
CWSD_CLASSES = {"0": "bank_(finance)", "1": "bank_(geography)"}
POLYSEMY_TSV = ("word\tsense\tsentence\ttarget_index\nbank\tbank.river\tWe sat on the bank .\t4\n"
                "bank\tbank.money\tThe bank lent money .\t1\nbat\tbat.animal\tA bat flew out .\t1\n")
DIRECTION_TSV = ("word\tsense\tcue\tsentence\ttarget_index\n"
                 "bank\tbank.river\tbefore\tWe fished from the bank all day .\t4\n"
                 "bank\tbank.money\tafter\tShe went to the bank to deposit cheques .\t3\n"
                 "bank\tbank.river\tafter\tShe went to the bank to fish .\t3\n")


def _assert_word(w: object) -> None:
    assert isinstance(w, str) and w and w == w.strip() and "\ufeff" not in w and "\x00" not in w, repr(w)


# -- similarity ---------------------------------------------------------------------------------
@pytest.mark.parametrize("layout", sorted(PAIR_LAYOUTS))
@FUZZ
@given(data=st.data())
def test_pair_files(tmp_path: Path, layout: str, data: st.DataObject) -> None:
    fmt, valid = PAIR_LAYOUTS[layout]
    path = tmp_path / "pairs.txt"
    path.write_bytes(data.draw(damaged(valid, sep=fmt.sep)))

    def validate(pairs: list) -> None:
        assert pairs
        for w1, w2, score in pairs:
            _assert_word(w1)
            _assert_word(w2)
            assert is_finite_number(score), score

    check_refused_or_valid(lambda: read_pairs(path, fmt), [path], validate=validate)


# -- analogy -------------------------------------------------------------------------------------
def _validate_questions(questions: list) -> None:
    assert questions
    for q in questions:
        for w in (q.a, q.b, q.c, q.d, q.section):
            _assert_word(w)
        for w in (q.a, q.b, q.c, q.d):
            assert not any(ch.isspace() for ch in w), w


@FUZZ
@given(data=st.data())
def test_questions_words(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "questions-words.txt"
    path.write_bytes(data.draw(damaged(QUESTIONS_WORDS, sep=" ")))
    check_refused_or_valid(lambda: read_questions_words(path), [path], validate=_validate_questions)


@FUZZ
@given(data=st.data())
def test_vecto_csv(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "msr.csv"
    path.write_bytes(data.draw(damaged(VECTO_CSV, sep=",")))

    def validate(questions: list) -> None:
        assert questions
        for q in questions:
            for w in q:
                assert isinstance(w, str) and w and w == w.strip(), q

    check_refused_or_valid(lambda: read_vecto_csv(path), [path], validate=validate)


# -- WiC, SCWS, CoarseWSD-20 ------------------------------------------------------------------------
@FUZZ
@given(data=st.data(), which=st.sampled_from(["data", "gold", "both"]))
def test_wic(tmp_path: Path, data: st.DataObject, which: str) -> None:
    d, g = tmp_path / "dev.data.txt", tmp_path / "dev.gold.txt"
    d.write_bytes(data.draw(damaged(WIC_DATA)) if which != "gold" else WIC_DATA.encode())
    g.write_bytes(data.draw(damaged(WIC_GOLD)) if which != "data" else WIC_GOLD.encode())

    def validate(items: list) -> None:
        assert items
        for it in items:
            assert 0 <= it.index1 < len(it.sentence1) and 0 <= it.index2 < len(it.sentence2)
            assert it.pos in POS_TAGS and isinstance(it.label, bool) and it.target.strip()
            assert all(t and not any(ch.isspace() for ch in t) for t in it.sentence1 + it.sentence2)

    check_refused_or_valid(lambda: read_wic(d, g, "dev"), [d, g], validate=validate)


@FUZZ
@given(data=st.data())
def test_scws(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "ratings.txt"
    path.write_bytes(data.draw(damaged(SCWS_TEXT)))

    def validate(items: list) -> None:
        assert items and len({it.id for it in items}) == len(items)
        for it in items:
            assert is_finite_number(it.rating) and RATING_RANGE[0] <= it.rating <= RATING_RANGE[1]
            assert it.context1[it.index1].lower() == it.word1.lower()
            assert it.context2[it.index2].lower() == it.word2.lower()
            assert "<b>" not in it.context1 + it.context2 and "</b>" not in it.context1 + it.context2

    check_refused_or_valid(lambda: read_scws(path), [path], validate=validate)


@FUZZ
@given(data=st.data(), which=st.sampled_from(["data", "gold", "both"]))
def test_coarsewsd_split(tmp_path: Path, data: st.DataObject, which: str) -> None:
    d, g = tmp_path / "train.data.txt", tmp_path / "train.gold.txt"
    d.write_bytes(data.draw(damaged(CWSD_DATA)) if which != "gold" else CWSD_DATA.encode())
    g.write_bytes(data.draw(damaged(CWSD_GOLD)) if which != "data" else CWSD_GOLD.encode())

    def validate(items: list) -> None:
        assert items
        for it in items:
            assert 0 <= it.index < len(it.tokens) and isinstance(it.label, int) and it.label >= 0
            assert all(it.tokens)
            assert not it.aligned or it.tokens[it.index] == "bank"

    check_refused_or_valid(lambda: read_split(d, g, "bank", "train"), [d, g], validate=validate)


@FUZZ
@given(data=st.data())
def test_coarsewsd_classes(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "classes_map.txt"
    path.write_bytes(data.draw(damaged_json(CWSD_CLASSES)))

    def validate(classes: dict) -> None:
        assert classes and sorted(classes) == list(range(len(classes)))
        assert all(isinstance(v, str) and v.strip() for v in classes.values())
        assert not json_has_duplicate_keys(path.read_bytes()), "a class given twice was accepted"

    check_refused_or_valid(lambda: read_classes(path), [path], validate=validate)


# -- probes ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("with_cue", [False, True], ids=["polysemy", "direction"])
@FUZZ
@given(data=st.data())
def test_probe_tsv(tmp_path: Path, with_cue: bool, data: st.DataObject) -> None:
    path = tmp_path / "probe.tsv"
    path.write_bytes(data.draw(damaged(DIRECTION_TSV if with_cue else POLYSEMY_TSV)))

    def validate(items: list) -> None:
        assert items and len(set(items)) == len(items)
        for it in items:
            assert it.sentence[it.target_index].lower() == it.word and it.sense.startswith(it.word + ".")
            assert (it.cue in CUES) if with_cue else it.cue is None

    check_refused_or_valid(lambda: read_probe(path, with_cue=with_cue), [path], validate=validate)


# -- the Brown zip -----------------------------------------------------------------------------------
def _brown_zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, text in members.items():
            zf.writestr(name, text)
    return buf.getvalue()


BROWN = {
    "brown/CONTENTS": b"ca01 news\n",
    "brown/ca01": b"\n\n\tThe/at Fulton/np-tl County/nn-tl Grand/jj-tl Jury/nn-tl said/vbd ./.\n\n"
                  b"\tIt/pps recommended/vbd that/cs Fulton/np ./.\n" * 20,
    "brown/cb02": "\tCaf\xe9/nn is/bez open/jj ./.\n".encode("latin-1") * 20,
}


@fuzz_settings(60)
@given(cut=st.integers(0, len(_brown_zip(BROWN)) - 1),
       flips=st.lists(st.tuples(st.integers(0, len(_brown_zip(BROWN)) - 1), st.integers(1, 255)), max_size=3),
       truncate=st.booleans())
def test_brown_zip(tmp_path: Path, cut: int, flips: list[tuple[int, int]], truncate: bool) -> None:
    data = bytearray(_brown_zip(BROWN))
    for at, xor in flips:
        data[at] ^= xor
    path = tmp_path / "brown.zip"
    path.write_bytes(bytes(data[:cut]) if truncate else bytes(data))

    def validate(sentences: list) -> None:
        assert sentences and all(isinstance(s, tuple) and all(isinstance(w, str) for w in s) for s in sentences)

    check_refused_or_valid(lambda: read_brown_zip(path), [path], validate=validate)


# -- the holes the fuzzing found, pinned ------------------------------------------------------------------
def test_invalid_utf8_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"tiger\tcat\t7.35\ncaf\xe9\tcoffee\t6.0\n")
    with pytest.raises(DatasetFormatError, match=r"pairs\.txt:2: invalid utf-8 \(byte 0xe9 at column 4\)"):
        read_pairs(path, PairFormat())
    for reader in (read_questions_words, read_vecto_csv, read_scws):
        with pytest.raises(DatasetFormatError, match=r"pairs\.txt:2: invalid utf-8"):
            reader(path)


def test_a_bom_is_not_part_of_the_first_word(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_bytes(b"\xef\xbb\xbftiger\tcat\t7.35\n")
    assert read_pairs(path, PairFormat()) == [("tiger", "cat", 7.35)]


@pytest.mark.parametrize("score", ["inf", "-inf", "1e999", "nan"])
def test_non_finite_scores_are_refused(tmp_path: Path, score: str) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text(f"tiger\tcat\t7.35\nbook\tpaper\t{score}\n")
    with pytest.raises(DatasetFormatError, match=r"pairs\.txt:2: score"):
        read_pairs(path, PairFormat())


def test_a_line_with_a_column_more_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "pairs.txt"
    path.write_text("tiger\tcat\t7.35\nbook\tpaper\t7.46\t3\n")
    with pytest.raises(DatasetFormatError, match=r"pairs\.txt:2: 4 columns .* line 1 has 3"):
        read_pairs(path, PairFormat())


def test_csv_field_over_the_size_limit_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "msr.csv"
    path.write_text(VECTO_CSV + '4,"' + "x" * 200_000 + '",a,b,c,d\n')
    with pytest.raises(DatasetFormatError, match=r"msr\.csv:\d+: not valid CSV"):
        read_vecto_csv(path)


def test_wic_unknown_pos_and_scws_duplicate_ids_and_range(tmp_path: Path) -> None:
    d, g = tmp_path / "x.data.txt", tmp_path / "x.gold.txt"
    d.write_text(WIC_DATA.replace("\tN\t", "\tNOUN\t"))
    g.write_text(WIC_GOLD)
    with pytest.raises(DatasetFormatError, match=r"x\.data\.txt:3: part of speech 'NOUN'"):
        read_wic(d, g)
    path = tmp_path / "ratings.txt"
    path.write_text(SCWS_TEXT + "\t".join(["2"] + SCWS_ROWS[1][1:]) + "\n")
    with pytest.raises(DatasetFormatError, match=r"ratings\.txt:4: id '2' already used on line 2"):
        read_scws(path)
    path.write_text(SCWS_TEXT.replace("\t8.75\t", "\t87.5\t"))
    with pytest.raises(DatasetFormatError, match=r"ratings\.txt:3: average rating 87\.5 is outside"):
        read_scws(path)


def test_coarsewsd_empty_split_negative_class_and_bad_classes(tmp_path: Path) -> None:
    d, g = tmp_path / "train.data.txt", tmp_path / "train.gold.txt"
    d.write_text("")
    g.write_text("")
    with pytest.raises(DatasetFormatError, match=r"train\.data\.txt:0: no sentences"):
        read_split(d, g, "bank", "train")
    d.write_text(CWSD_DATA)
    g.write_text("0\n-1\n1\n")
    with pytest.raises(DatasetFormatError, match=r"train\.gold\.txt:2: class '-1' is negative"):
        read_split(d, g, "bank", "train")
    d.write_text("1\t \n0\tbank of the river\n2\tthe bank \n")  # found by a deeper fuzz run
    g.write_text("0\n1\n1\n")
    with pytest.raises(DatasetFormatError, match=r"train\.data\.txt:1: position 1 is at an empty token"):
        read_split(d, g, "bank", "train")
    d.write_text("0\tx\n0\tbank of the river\n2\tthe bank \n")
    with pytest.raises(DatasetFormatError, match=r"train\.data\.txt:3: position 2 is at an empty token"):
        read_split(d, g, "bank", "train")
    c = tmp_path / "classes_map.txt"
    for text, match in [('{"0": "a",\n "0": "b"}', r":1: class '0' appears twice"),
                        ('{"0": "a",\n "1": 7}', r":2: the label of class '1' is 7"),
                        ('{"0": "a",\n "x": "b"}', r":2: class 'x' is not a number"),
                        ('{"0": "a", "2": "b"}', r":1: classes \[0, 2\] are not numbered"),
                        ("[" * 100_000 + "]" * 100_000, r":1: not valid JSON"),
                        ('{"0": "a",\n "1": }', r":2: not valid JSON")]:
        c.write_text(text)
        with pytest.raises(DatasetFormatError, match=r"classes_map\.txt" + match):
            read_classes(c)


def test_probe_duplicate_rows_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text(POLYSEMY_TSV + POLYSEMY_TSV.splitlines(keepends=True)[2])
    with pytest.raises(DatasetFormatError, match=r"p\.tsv:5: the same row as line 3"):
        read_probe(path, with_cue=False)


def test_brown_zip_damage_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "brown.zip"
    path.write_bytes(_brown_zip(BROWN)[:300])
    with pytest.raises(DatasetFormatError, match=r"brown\.zip:0: .*not a readable zip"):
        read_brown_zip(path)
    path.write_bytes(_brown_zip({"other/file.txt": b"x"}))
    with pytest.raises(DatasetFormatError, match=r"brown\.zip:0: no brown/c\* text files"):
        read_brown_zip(path)
    path.write_bytes(_brown_zip(BROWN))
    sentences = read_brown_zip(path, lowercase=True)
    assert sentences[0] == ("the", "fulton", "county", "grand", "jury", "said", ".")
    assert ("café", "is", "open", ".") in sentences and math.isclose(len(sentences), 60)



# -- classification (SentEval / GLUE / TREC layouts) ---------------------------------------------
SENTENCES = "simplistic , silly and tedious .\nit 's so laddish and juvenile .\nexploitative and largely devoid .\n"
SST_TSV = "sentence\tlabel\nhide new secretions from the parental units \t0\ncontains no wit \t0\nthat loves \t1\n"
TREC = ("DESC:manner How did serfdom develop in and then leave Russia ?\nENTY:cremat What films featured the "
        "character Popeye Doyle ?\nNUM:date When was Ozzy Osbourne born ?\n")


def _validate_rows(labels: set[int]):
    def validate(rows: list) -> None:
        assert rows
        for lineno, tokens, label in rows:
            assert isinstance(lineno, int) and lineno >= 1
            assert tokens and all(t and not any(c.isspace() for c in t) for t in tokens), tokens
            assert label in labels, label
    return validate


@FUZZ
@given(data=st.data())
def test_classification_sentence_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "rt-polarity.neg"
    path.write_bytes(data.draw(damaged(SENTENCES, sep=" ")))
    check_refused_or_valid(lambda: read_sentences(path, 0), [path], validate=_validate_rows({0}))


@FUZZ
@given(data=st.data())
def test_classification_tsv_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "train.tsv"
    path.write_bytes(data.draw(damaged(SST_TSV, sep="\t")))
    check_refused_or_valid(lambda: read_tsv(path, header="sentence\tlabel"), [path],
                           validate=_validate_rows({0, 1}))


@FUZZ
@given(data=st.data())
def test_trec_files(tmp_path: Path, data: st.DataObject) -> None:
    path = tmp_path / "train_5500.label"
    path.write_bytes(data.draw(damaged(TREC, sep=" ", encoding="latin-1")))
    check_refused_or_valid(lambda: read_trec(path), [path], validate=_validate_rows(set(range(len(TREC_CLASSES)))))
