"""WiC, SCWS and CoarseWSD-20: the real files parse from the mirror (sha256-verified) and a
malformed line raises with file:line."""

from __future__ import annotations

import pytest

from bench.datasets import ChecksumMismatch, fetch_file, get_dataset
from bench.datasets.coarsewsd import WORDS, load_classes, load_coarsewsd, read_split
from bench.datasets.scws import load_scws, read_scws
from bench.datasets.wic import load_wic, read_wic
from bench.validation import DatasetFormatError


def test_wic_splits_parse_with_published_sizes():
    sizes = {s: len(load_wic(s)) for s in ("train", "dev", "test")}
    assert sizes == {"train": 5428, "dev": 638, "test": 1400}
    test = load_wic("test")
    assert sum(i.label for i in test) == 700  # balanced
    first = load_wic("train")[0]
    assert (first.target, first.sentence1[first.index1], first.sentence2[first.index2]) == (
        "carry",
        "carry",
        "carries",
    )


def test_scws_parses_2003_pairs_with_targets_located():
    items = load_scws()
    assert len(items) == 2003
    assert all(i.context1[i.index1].lower() == i.word1.lower() for i in items)
    assert all("<b>" not in i.context1 and "</b>" not in i.context2 for i in items)
    assert all(0 <= i.rating <= 10 for i in items)


def test_coarsewsd_parses_every_word():
    assert len(WORDS) == 20
    total = misaligned = 0
    for w in WORDS:
        classes = load_classes(w)
        for split in ("train", "test"):
            items = load_coarsewsd(w, split)
            assert {i.label for i in items} <= set(classes)
            total += len(items)
            misaligned += sum(not i.aligned for i in items)
    assert total == 33566 and misaligned == 3


def test_every_file_is_pinned():
    for name in ("wic", "scws", "coarsewsd20"):
        ds = get_dataset(name)
        assert all(len(f.sha256) == 64 for f in ds.files.values())
    assert len(get_dataset("coarsewsd20").files) == 20 * 5


def test_a_changed_file_is_refused(tmp_path, monkeypatch):
    df = get_dataset("wic").files["dev.gold"]
    monkeypatch.setenv("CTXBENCH_MIRROR", str(tmp_path))
    target = tmp_path / df.path
    target.parent.mkdir(parents=True)
    target.write_text("T\n")
    with pytest.raises(ChecksumMismatch):
        fetch_file(df)


def test_wic_malformed_lines(tmp_path):
    data, gold = tmp_path / "d.txt", tmp_path / "g.txt"
    data.write_text("bank\tN\t1-0\tthe bank\tbank loans\nbank\tN\t1\tthe bank\tbank loans\n")
    gold.write_text("T\nF\n")
    with pytest.raises(DatasetFormatError, match=r"d\.txt:2: indices '1' are not 'i-j'"):
        read_wic(data, gold)
    data.write_text("bank\tN\t5-0\tthe bank\tbank loans\n")
    gold.write_text("T\n")
    with pytest.raises(DatasetFormatError, match=r"d\.txt:1: index 5-0 outside"):
        read_wic(data, gold)
    data.write_text("bank\tN\t1-0\tthe bank\tbank loans\n")
    gold.write_text("yes\n")
    with pytest.raises(DatasetFormatError, match=r"g\.txt:1: gold label"):
        read_wic(data, gold)


def test_scws_malformed_lines(tmp_path):
    p = tmp_path / "ratings.txt"
    ok = "\t".join(["1", "bank", "n", "bank", "n", "a <b> bank </b>", "the <b> bank </b> x", "5.0"])
    p.write_text(ok + "\n" + ok.replace("<b> bank </b> x", "bank x") + "\n")
    with pytest.raises(DatasetFormatError, match=r"ratings\.txt:2: context2: expected one"):
        read_scws(p)
    p.write_text(ok.replace("5.0", "five") + "\n")
    with pytest.raises(DatasetFormatError, match=r"ratings\.txt:1: average rating 'five' is not a number"):
        read_scws(p)
    p.write_text(ok.replace("a <b> bank </b>", "a <b> river </b>") + "\n")
    with pytest.raises(
        DatasetFormatError, match=r"ratings\.txt:1: marked token 'river' is not the word 'bank'"
    ):
        read_scws(p)


def test_coarsewsd_malformed_lines(tmp_path):
    data, gold = tmp_path / "train.data.txt", tmp_path / "train.gold.txt"
    data.write_text("1\tthe bank\n9\tthe bank\n")
    gold.write_text("0\n1\n")
    with pytest.raises(DatasetFormatError, match=r"train\.data\.txt:2: position 9 outside"):
        read_split(data, gold, "bank", "train")
    data.write_text("1 the bank\n")
    gold.write_text("0\n")
    with pytest.raises(DatasetFormatError, match=r"train\.data\.txt:1: expected 'position<tab>sentence'"):
        read_split(data, gold, "bank", "train")
    data.write_text("1\tthe bank\n")
    gold.write_text("0\n1\n")
    with pytest.raises(DatasetFormatError, match=r"train\.gold\.txt:2: 2 gold labels for 1 sentences"):
        read_split(data, gold, "bank", "train")
