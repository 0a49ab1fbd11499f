"""Classification datasets: published sizes and class counts, tokenisation, strict parsing."""

from __future__ import annotations

import collections
import shutil

import pytest

from bench.datasets import get_dataset
from bench.datasets.classification import (
    LABEL_NAMES,
    SPLITS,
    TREC_CLASSES,
    load_classification,
    read_sentences,
    read_trec,
    read_tsv,
)
from bench.validation import DatasetFormatError

# Sizes as published (SentEval, Conneau & Kiela 2018; Kim 2014 Table 1; GLUE): CR and MPQA
# count 4 and 3 blank lines, which are dropped here and listed in ``skipped``.
PUBLISHED = [
    ("mr", "all", 10662, 0),
    ("cr", "all", 3775, 4),
    ("subj", "all", 10000, 0),
    ("mpqa", "all", 10606, 3),
    ("trec", "train", 5452, 0),
    ("trec", "test", 500, 0),
    ("sst2", "train", 67349, 0),
    ("sst2", "dev", 872, 0),
    ("sst2", "test", 1821, 0),
]


@pytest.mark.parametrize("name, split, published, blank", PUBLISHED)
def test_sizes_match_the_literature(name, split, published, blank):
    data = load_classification(name, split)
    assert len(data.skipped) == blank
    assert len(data) + len(data.skipped) == published
    assert data.split == split and data.name == name
    assert len(set(data.ids)) == len(data)
    assert all(data.sentences) and all(isinstance(t, str) and t and not any(c.isspace() for c in t)
                                       for s in data.sentences[:500] for t in s)
    assert set(data.labels) == set(range(len(data.label_names)))


# class counts: balanced halves (MR, SUBJ); TREC as in Li & Roth 2002; SST-2 as GLUE / SentEval
CLASS_COUNTS = [
    ("mr", "all", {"negative": 5331, "positive": 5331}),
    ("subj", "all", {"objective": 5000, "subjective": 5000}),
    ("cr", "all", {"negative": 1366, "positive": 2405}),
    ("mpqa", "all", {"negative": 7292, "positive": 3311}),
    ("trec", "train", {"ABBR": 86, "DESC": 1162, "ENTY": 1250, "HUM": 1223, "LOC": 835, "NUM": 896}),
    ("trec", "test", {"ABBR": 9, "DESC": 138, "ENTY": 94, "HUM": 65, "LOC": 81, "NUM": 113}),
    ("sst2", "train", {"negative": 29780, "positive": 37569}),
    ("sst2", "dev", {"negative": 428, "positive": 444}),
    ("sst2", "test", {"negative": 912, "positive": 909}),
]


@pytest.mark.parametrize("name, split, expected", CLASS_COUNTS)
def test_class_counts(name, split, expected):
    data = load_classification(name, split)
    counts = collections.Counter(data.label_names[y] for y in data.labels)
    assert dict(counts) == expected


def test_label_names_and_splits():
    assert LABEL_NAMES["trec"] == ("ABBR", "DESC", "ENTY", "HUM", "LOC", "NUM")
    assert LABEL_NAMES["subj"] == ("objective", "subjective")
    assert SPLITS["sst2"] == ("train", "dev", "test")
    for name in SPLITS:
        ds = get_dataset(name)
        assert ds.license and ds.citation and ds.homepage and ds.files


def test_items_are_stable_and_in_file_order():
    a, b = load_classification("mr"), load_classification("mr")
    assert a == b
    assert a.ids[0] == "mr:neg:1" and a.ids[5331] == "mr:pos:1"
    assert a.sentences[0] == ("simplistic", ",", "silly", "and", "tedious", ".")
    assert a.labels[0] == 0 and a.labels[5331] == 1


def test_pinned_blank_lines_are_the_ones_skipped():
    assert load_classification("cr").skipped == ("neg:769", "neg:1368", "pos:2323", "pos:2407")
    assert load_classification("mpqa").skipped == ("neg:6415", "neg:7294", "pos:3312")
    assert "cr:neg:769" not in load_classification("cr").ids


def test_sst2_splits_are_the_right_files():
    train = load_classification("sst2", "train")
    assert train.ids[0] == "sst2:train:2"  # line 1 is GLUE's header
    assert train.sentences[0] == ("hide", "new", "secretions", "from", "the", "parental", "units")
    dev = load_classification("sst2", "dev")
    assert dev.sentences[0] == ("it", "'s", "a", "charming", "and", "often", "affecting", "journey", ".")
    test = load_classification("sst2", "test")
    assert test.sentences[0] == ("uneasy", "mishmash", "of", "styles", "and", "genres", ".")
    assert not set(dev.sentences) & set(test.sentences)


def test_trec_is_the_original_latin1_text_with_apostrophes():
    train = load_classification("trec", "train")
    by_id = dict(zip(train.ids, train.sentences))
    assert "sister\u00f0city" in by_id["trec:train:66"]  # byte 0xF0 read as Latin-1
    assert "'" in by_id["trec:train:3"]  # SentEval's copy deletes it ("celebrities  real names")
    assert by_id["trec:train:1"][0] == "How"  # case kept
    assert TREC_CLASSES[train.labels[0]] == "DESC"


def test_split_errors():
    with pytest.raises(ValueError, match=r"trec has the splits \('train', 'test'\); say which one"):
        load_classification("trec")
    with pytest.raises(ValueError, match="no split 'dev'"):
        load_classification("trec", "dev")
    with pytest.raises(KeyError, match="did you mean 'sst2'"):
        load_classification("sst")
    with pytest.raises(KeyError, match="is not a classification dataset"):
        load_classification("simlex999")


# -- corrupted copies: the error names file and line ------------------------------------
def _copy_with(tmp_path, src, name, lineno, new_line: bytes | None = None, insert: bytes | None = None):
    lines = src.read_bytes().split(b"\n")
    if insert is not None:
        lines.insert(lineno - 1, insert)
    else:
        lines[lineno - 1] = new_line
    out = tmp_path / name
    out.write_bytes(b"\n".join(lines))
    return out


def test_real_files_parse_and_a_blank_line_is_refused(tmp_path, mirror):
    src = mirror / get_dataset("mr").files["pos"].path
    assert len(read_sentences(src, 1)) == 5331
    bad = _copy_with(tmp_path, src, "rt-polarity.pos", 5, insert=b"")
    with pytest.raises(DatasetFormatError, match=r"rt-polarity\.pos:5: empty sentence") as e:
        read_sentences(bad, 1)
    assert e.value.line == 5 and e.value.path.endswith("rt-polarity.pos")


def test_only_the_pinned_blank_lines_are_allowed(tmp_path, mirror):
    src = mirror / get_dataset("cr").files["neg"].path
    assert len(read_sentences(src, 0, known_blank=frozenset({769, 1368}))) == 1366
    with pytest.raises(DatasetFormatError, match=r"custrev\.neg:769: empty sentence"):
        read_sentences(src, 0)
    bad = _copy_with(tmp_path, src, "custrev.neg", 100, new_line=b"   ")
    with pytest.raises(DatasetFormatError, match=r"custrev\.neg:100: empty sentence"):
        read_sentences(bad, 0, known_blank=frozenset({769, 1368}))


def test_undecodable_bytes_name_the_line(tmp_path, mirror):
    src = mirror / get_dataset("subj").files["objective"].path
    bad = _copy_with(tmp_path, src, "subj.objective", 3, new_line=b"a caf\xe9 scene .")
    with pytest.raises(DatasetFormatError, match=r"subj\.objective:3: bytes b'\\xe9' at column 6 are not valid utf-8"):
        read_sentences(bad, 0)
    # the real TREC file is Latin-1: read as UTF-8 it fails exactly at the 0xF0 byte's line
    trec = mirror / get_dataset("trec").files["train"].path
    with pytest.raises(DatasetFormatError, match=r"TREC\.train:66: bytes b'\\xf0'"):
        read_trec(trec, encoding="utf-8")


def test_a_tab_in_a_sentence_file_is_refused(tmp_path):
    p = tmp_path / "mpqa.pos"
    p.write_text("fine\nnot\t1\n")
    with pytest.raises(DatasetFormatError, match=r"mpqa\.pos:2: a tab"):
        read_sentences(p, 1)


def test_tsv_errors(tmp_path, mirror):
    src = mirror / get_dataset("sst2").files["dev"].path
    assert len(read_tsv(src, header="sentence\tlabel")) == 872
    with pytest.raises(DatasetFormatError, match=r"dev\.tsv:1: label 'label' is not 0 or 1"):
        read_tsv(src)  # the header is not data: without header= it is a bad line
    cases = [
        (10, b"a fine film 1", r"dev\.tsv:10: expected 2 tab-separated columns \(sentence, label\), got 1"),
        (11, b"a fine film\t1\textra", r"dev\.tsv:11: expected 2 tab-separated columns \(sentence, label\), got 3"),
        (12, b"a fine film\t2", r"dev\.tsv:12: label '2' is not 0 or 1"),
        (13, b" \t1", r"dev\.tsv:13: empty sentence"),
        (1, b"sentence\tgold", r"dev\.tsv:1: expected the header 'sentence\\tlabel'"),
    ]
    for lineno, line, message in cases:
        bad = _copy_with(tmp_path, src, "dev.tsv", lineno, new_line=line)
        with pytest.raises(DatasetFormatError, match=message):
            read_tsv(bad, header="sentence\tlabel")


def test_trec_errors(tmp_path, mirror):
    src = mirror / get_dataset("trec").files["test"].path
    cases = [
        (7, b"XYZ:foo What is this ?", r"TREC\.test:7: unknown class 'XYZ'; classes: ABBR, DESC"),
        (8, b"NUM What is this ?", r"TREC\.test:8: expected 'COARSE:fine question'"),
        (9, b"NUM:count", r"TREC\.test:9: empty sentence"),
    ]
    for lineno, line, message in cases:
        bad = _copy_with(tmp_path, src, "TREC.test", lineno, new_line=line)
        with pytest.raises(DatasetFormatError, match=message):
            read_trec(bad)


def test_empty_file_is_refused(tmp_path):
    p = tmp_path / "empty.pos"
    p.write_bytes(b"")
    with pytest.raises(DatasetFormatError, match=r"empty\.pos:0: no sentences"):
        read_sentences(p, 1)


def test_load_reads_the_verified_copy(tmp_path, mirror, monkeypatch):
    # a tampered mirror copy never reaches the parser
    from bench.datasets import ChecksumMismatch

    df = get_dataset("trec").files["test"]
    fake = tmp_path / "mirror"
    (fake / df.path).parent.mkdir(parents=True)
    shutil.copy(mirror / df.path, fake / df.path)
    with open(fake / df.path, "ab") as f:
        f.write(b"NUM:count How many ?\n")
    monkeypatch.setenv("CTXBENCH_MIRROR", str(fake))
    with pytest.raises(ChecksumMismatch):
        load_classification("trec", "test")
