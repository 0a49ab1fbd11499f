"""CoarseWSD-20 (Loureiro et al. 2021): 20 ambiguous nouns, 2-5 coarse senses each.

Per word, ``<word>/classes_map.txt`` is a JSON dict from class number to sense label;
``<split>.data.txt`` has one sentence per line, ``position <tab> tokenized lower-cased
sentence`` (tokens separated by single spaces, ``position`` 0-based); ``<split>.gold.txt``
holds the class number on the same line. A handful of lines point at a token that is not
the word (3 of 33,526 in v1.0); they are kept here with ``aligned=False`` and left to the
task to drop and count.

Examples
--------
>>> import tempfile, pathlib
>>> d = pathlib.Path(tempfile.mkdtemp())
>>> _ = (d / "train.data.txt").write_text("1\\tthe bank  lent money\\n")
>>> _ = (d / "train.gold.txt").write_text("0\\n")
>>> item = read_split(d / "train.data.txt", d / "train.gold.txt", "bank", "train")[0]
>>> item.tokens, item.index, item.label, item.aligned
(('the', 'bank', 'lent', 'money'), 1, 0, True)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bench.datasets.base import DataFile, Dataset, DatasetCollection
from bench.datasets.fetching import fetch
from bench.validation import DatasetFormatError, read_aligned, read_text

#: the datasets this module defines (listed in bench.datasets.registry.INDEX)
DATASETS = DatasetCollection()

__all__ = ["WSDItem", "WORDS", "read_split", "read_classes", "load_coarsewsd", "load_classes"]

_URL = "https://raw.githubusercontent.com/danlou/bert-disambiguation/master/data/CoarseWSD-20/{word}/{file}"
_FILES = ("classes_map.txt", "train.data.txt", "train.gold.txt", "test.data.txt", "test.gold.txt")
_SHA256 = {
    "apple": (
        "e64e645283dd7a4908539fc81c92fe307b5dcb83de32573fa769ab06a79c45de",
        "fc3ceceecceecd450902dec43ed691a5f18aa414846147f41c3fab4af862c054",
        "ea6dbfb9d46ba516e768587717f934577fb28d7ec71befa3dd72cf689dc936d5",
        "3d9239b2abbcb88edb65f4c842f2aed9757c6433055006f9e0880ae905e0953d",
        "cf2364333316461ede6f0730270fc3fc5fa8ac60eded716a8e318b085dd06a68",
    ),
    "arm": (
        "7122ff7df7da6f7cb598dcaf86702757d64dbb42b1d789e360df0ca285e305be",
        "42773b0b5be1aba4d628d7e78171a69c5e5e1a959d6044db817d890fab394975",
        "4bc25eed0c2079033376fb102aefc48cf7384288793f4a22034f6f08132e1696",
        "218eafbd53e82219661d0db4808134965c50ba45b2e3234268b668ce38cc2067",
        "42e6c70af6d6fa88cbee4dc13da66471e8fc90261cce75381c8ae67419104d88",
    ),
    "bank": (
        "097201695caf6cf3a67a32e871b23bcde5336e5b353122f176c77f6d1977416c",
        "8c3c081437902d4f42d6215185d711852eeaa915370ce51cea8cdd52180ab688",
        "8b0b81fd346df7eb510e53dbc46dc1458543e192cb066321290eb15fe6b309da",
        "a22fe4fcf44866782265a47d283140ed38269d97f55cb8340bdba9ad05cc78bf",
        "229c322c16d1e3bdf41b1dee3a140bf58ec5647c11e361327a31107d4aa05bd0",
    ),
    "bass": (
        "03de24a757bb60b9179bd04cd97bb80d6aacd8c7d8cbebed5d8d5d6252f3cb08",
        "95fe21d0c4823676698de937e5024a96e37554795d4ae36c703e188b1763a5d6",
        "e0db7d2252fc5a6ce2fbca43997507eac49dd2109391ae15995a05dbc57b9b80",
        "95c28dec93d601642d2dad3f191747ccc4054ece23ecff8583b45534ff9c763d",
        "e6740d7851c24f7e79a7122c2369d0b8535ca5b54cf4a5b9bb207284b3ccb31c",
    ),
    "bow": (
        "53d4bf0c73caaca1f29468d273132efd6bc33d36747c7d91f6e784a2c5f7c86a",
        "839f0ce7ba537f9f57e0a07f2d181ee5467b62e92dff0d983da6aee10fb94288",
        "68dfd9b0d4e3762c4eb4183fb56083cdb702cc805ff9b93919e4c6847fa78669",
        "09ca06d536ff3b0641f48ee7ff4c19394a81a2954d7d2224dda743e37c918fa6",
        "5208b13247e6be4cbf43b61c27d9532c337907287a7ab8d83b47f00f362512a3",
    ),
    "chair": (
        "53f72f616ee8131fdf9b8649f7a8f6b0c4e1bd87f935f917e92983c518f057af",
        "c9b6013d7cb3509f0166d46919de66febd30694372178a0c5ad57ec20681fa28",
        "664d9128a0735116a64e4fd2b343e65f5213632a81e6b3f23020d8fb5d02b456",
        "6998d0c2bc5fb516a853098749382a97c18a69b0703df226de54411550f67e30",
        "194b88d9e5c3b7afb101d9d74625cfc07532fbb4565577a4300a60e892f67b57",
    ),
    "club": (
        "efdf33808c7b4bfa9b46030d72951ed25a2391fb64628bb999178f8596f00ab4",
        "cd27207555a9693ffc2c0950995f912404dd4c305eb26c7a77b2b13808bfaf68",
        "64d630bc618692234f690fd31246951a39678009ea81cfbc42159780c8d05e1a",
        "270102664cc993eb910051b807b8d0bc32ba96e80809592b171c039eedf0a111",
        "e6da8b96d5b31a72f38dd3dd539d94c8a754f9bf767bb2df533e083b47325523",
    ),
    "crane": (
        "b056b635255a5e399c2b642250e12ddd8eee2caadeabecc6be16d7b59979fd4c",
        "f512b5266a25bdd6625f40c6fdc80ba73621385d950c7476aaf39267d082b536",
        "a2e46c5fec462b2612856242c33462fcaa2f0d93ef0ce836a39fb1877b9d9709",
        "5bdd171120127c0e7f77e60e4cfbed91ea212438edbd537daad747c2fab1a9ed",
        "e5db988f12083073ebc66461e0911461653c373f2fd506536b0da750fe2b3275",
    ),
    "deck": (
        "b1be6a848f6bbca6e907708b23dd9caaaddb414079eeaff9c079b6bf49dc7066",
        "3e9f01b75550ee6338f10f365e9f2972ab0493527c81b74db1a17ad10f4d731a",
        "650f953a1c9a791ef84659291dc8443f1fca7977c6b2cd0801c2b701304a9b84",
        "169a07a96a8303ed1745afaded7bbcfe8773857e7a258b6cf009942a8a5ae34f",
        "e04b687c7be18d177ae481b998b99517f898ebdfe8b8424088a68a30d4a9024b",
    ),
    "digit": (
        "b6195d1be623a353367389f59a220e3e01d521f9b4cdca901f04c5189c7d7fa5",
        "6d0b17a5a99b145f00dc8e5d2ca6c281d4ec7233ed6d4578fd040c4a81882126",
        "6cf52d9f5a1a5b3ee9f0045da1e18ad6e8fb12444fd9a173d45bcbec60489859",
        "10ed61a937d59eec080598ddd82fced4250be4f5d453f6ad834de89ee7dd07d2",
        "68862028d144ee1c47d4fcd3ebf2aa8ce4f52f0b2b332e7420aa741a09b84509",
    ),
    "hood": (
        "ef581e860e6c86afea757f14d2846d32ca8ea47ee1d6fb371e0c8b9fa1cdd77d",
        "4e2d0a7ead809bc0477001b136030eea12be07a71a96fe356a4a3edf8992a077",
        "6358f0749e8f14f3c12f56b2ef6d45690198b7d130449daf59f184274f6abc05",
        "9013d9845a7c80ea46c954a15718639059da0b3b1c6b1ec914bd45aa954dc08b",
        "96ae7b2014ff70bf2c45c7bfa4897eebf650095fc2eefe8685888711a3232274",
    ),
    "java": (
        "8eec3c0f0c5a2127e145b709c298a760612f4b14e077ea452ec42929ebe0f8d6",
        "424df8a514222ad42e937ce9fcddc3b2103851c5d01e63e96dffa6cb3683755c",
        "2d5c5e9cf49b90142f1cdd497b69c12f4cc52ae06500fff21e14728569b8f30f",
        "07dd4bab1d7e10abca96242d3d9e0b7be4b651abf9318d1d75af753df6e4e052",
        "ab3e4b4d906ac2a393d33c4196d529ca67837358339976d1b4c8e77c1c289ef0",
    ),
    "mole": (
        "2e4d2ab88430b8c762b0106edc3a42289374b10b5af38b9e644a1fe4b32a74bf",
        "fedf166bd1e529f7bb0f030a79427f6fb6caf750517b24426993065e2f712ce2",
        "93fbfff59ce0584b9040b84f498b881664cfb86c2a7179ac1709d3ce76cd18e3",
        "30999e9847c5d6b13e1de6f7c920beb350436136d836e165c3f6d62ae5111e14",
        "0641e34896e8595a65ae882ee3dcde3ba64a2a96d2d3bff6d563ba30af02879f",
    ),
    "pitcher": (
        "4caf395fcf530e3d3dfbcd163e9472e75a328693599ddddf5497ae976266f6d5",
        "bd4f74675fb2c652534e9e2dc57aea8f0f527e583e3fc332041da28ab2cb05fe",
        "d32c4fdd8af875f3156e49e463ad0b418ba4b54ab13725f98f9f1fefa959f17e",
        "4914c667adbadf8686461cd123e177557099ca6afd178e6cc7e924a5ea30aff1",
        "3676c1ed6b195f9c6f6c8b2824845369d63e0bc89e66079953e9d7b7fc1960b8",
    ),
    "pound": (
        "5a9e3e302f39bd7efa8ae5a540bd4e61de0bae4b292e832a8f52bb151b87d1e5",
        "877e57544877a01aef6d462dacc245afa81df43bf56deed8bfc0145b3ad349d9",
        "dc37b92d844aec65a325e2d14077eaf55939e3e0b532a1326b7bc7a8449c1beb",
        "a9d88037e3b2fbeeabb1271050a58e58fe6bbc041b95b3c3a0dc2f77e3ccb846",
        "2085b1ac46ad9d2bc4baf71cd6994603a9f18be7eabc7f533b7c6d645f18fe12",
    ),
    "seal": (
        "7bb400cbd6077de38733336ccf9a77d603171039cf4350f7ce9d8accc461353c",
        "bce1108ef118310b8589bfb9bca95981107e4327c5253ed3532d1f231e714732",
        "8be932a363a1b287358376811e07229b8b0bbf482457b003494c707683abeb25",
        "084b420f5ac4fbf383145be1e6f93d087c41959a005405b182b2759a0510a865",
        "2514bbc04a95bada20d8ae0d7de962f7515086d56c2cb6d827560e4d22e9e19e",
    ),
    "spring": (
        "721977ffb47e2ebe24cbb703748d387bbae0afc15e7b669863cd5bbc2a2ecaaf",
        "a272e004a2c20c23f773ebbd4cb54c5b1be3257bb36a81c37f824ac860beb517",
        "4f41fd584e6f8a90dbd7527dc5ab5460397d6313e37a93d4572b54512f553245",
        "f7a6110dbf27f10e8c476c3e286844e6acf42fa2d437f1b49b6860083dc07220",
        "f5741fea3e593180bdb54a80f4218d272f0568be870637d02344a185f3a5f2c0",
    ),
    "square": (
        "89e115a625c74ad6e9eecfa4201ce8bf011bde66a2989f143edda38e63c9194c",
        "c528b7bf8021e56adc37c22df0973460c9963d2b5349391409e6e1862361ad64",
        "bfa161dd987438497fd3dbb122a9e9a42f55be6f786b9becc9fea6ae6b289674",
        "5a87b520e998e34dbcb712c88ed9ed62cd7eb24fc566a9479bdae91ca81957a4",
        "61d5e73f1f4ac9124956121d892ae0366b472a52e0cc51cdb9c8a0334dc69ce8",
    ),
    "trunk": (
        "43e266d14c39cad10690cc31f571c617309c9eedce9af15c62462f7431e94657",
        "09b091de1f2ea64f478737fd8b052d9136ddc03aa3c7b58f67a3271c8d0e47ed",
        "bfe72a3f5160197698a9c1bacddbfc34ad38711626d872c70e73383037aef3f4",
        "bf4bb3434fb549970201fc915ce6e79c4a1d75766db746f65ceb48692b8a89f3",
        "698e7482594751f0c567ebd6946272c0e752aa1bc268f0684650061375afbc94",
    ),
    "yard": (
        "5603ce7c1cda1d3ff427de064f0b57bb1abb067e40f767bda12e3b4bac4d7bc8",
        "47ffd402d9fca6fc7d3f999a3b4af18b60d5629a2a0d699779c236619c7907d7",
        "080f383314a850a308a664afef830cccbd13f5f57d2d5529bd33cf502a7a3862",
        "3dcbe128b193e1ddeb7366e347732b3ee6dac038338b44e5b04b5e9e6fcfb288",
        "278b6d8dce5aa6e237a36306e5c16794f424d1e008a58b9556527626e0292db8",
    ),
}
WORDS = tuple(sorted(_SHA256))

COARSEWSD20 = DATASETS.add(
    Dataset(
        "coarsewsd20",
        "CoarseWSD-20 v1.0 (20 nouns, coarse senses, train/test)",
        {
            f"{word}/{name.rsplit('.', 1)[0]}": DataFile(
                f"coarsewsd20/CoarseWSD-20/{word}/{name}", sha, _URL.format(word=word, file=name)
            )
            for word, shas in _SHA256.items()
            for name, sha in zip(_FILES, shas, strict=True)
        },
        license="CC BY-NC 4.0 (data/CoarseWSD-20/LICENSE)",
        citation="Loureiro, Rezaee, Pilehvar & Camacho-Collados 2021, Analysis and Evaluation of Language "
        "Models for Word Sense Disambiguation, Computational Linguistics 47(2)",
        homepage="https://pilehvar.github.io/coarsewsd/",
    )
)


@dataclass(frozen=True)
class WSDItem:
    """One occurrence of an ambiguous word with its gold class number."""

    id: str
    word: str
    tokens: tuple[str, ...]
    index: int
    label: int
    aligned: bool


def read_classes(path: str | Path) -> dict[int, str]:
    """``classes_map.txt``: class number -> sense label (a JSON object, keys ``"0"``, ``"1"`` ...)."""
    text = read_text(path)
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as e:
        raise DatasetFormatError(path, _line_of_key(text, e.key), f"class {e.key!r} appears twice") from None
    except json.JSONDecodeError as e:
        raise DatasetFormatError(path, e.lineno, f"not valid JSON ({e.msg}, column {e.colno})") from None
    except RecursionError:
        raise DatasetFormatError(path, 1, "not valid JSON (nested too deeply)") from None
    if not isinstance(raw, dict) or not raw:
        raise DatasetFormatError(
            path, 1, f"expected a non-empty JSON object of class number -> sense label, got {type(raw).__name__}"
        )
    classes: dict[int, str] = {}
    for key, label in raw.items():
        line = _line_of_key(text, key)
        if not key.isascii() or not key.isdigit():
            raise DatasetFormatError(path, line, f"class {key[:20]!r} is not a number 0, 1, ...")
        if not isinstance(label, str) or not label.strip():
            raise DatasetFormatError(path, line, f"the label of class {key!r} is {label!r}, not a sense name")
        classes[int(key)] = label
    if sorted(classes) != list(range(len(classes))):
        raise DatasetFormatError(path, 1, f"classes {sorted(classes)} are not numbered 0..{len(classes) - 1}")
    return classes


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    out: dict[str, object] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKey(key)
        out[key] = value
    return out


def _line_of_key(text: str, key: str) -> int:
    """The line of the first ``"key"`` in ``text`` (1 when not found verbatim)."""
    at = text.find(json.dumps(key))
    return text.count("\n", 0, at) + 1 if at >= 0 else 1


def read_split(data_path: str | Path, gold_path: str | Path, word: str, split: str) -> list[WSDItem]:
    """Read one word's split; a malformed line raises :class:`DatasetFormatError` with file:line."""
    items = []
    for lineno, line, label in read_aligned(data_path, gold_path, "sentences"):
        cols = line.split("\t")
        if len(cols) != 2:
            raise DatasetFormatError(
                data_path, lineno, f"expected 'position<tab>sentence', got {len(cols)} columns"
            )
        try:
            pos, cls = int(cols[0]), int(label)
        except ValueError:
            raise DatasetFormatError(
                data_path if not cols[0].strip().isdigit() else gold_path,
                lineno,
                f"position {cols[0][:20]!r} / class {label[:20]!r} is not an integer",
            ) from None
        if cls < 0:
            raise DatasetFormatError(gold_path, lineno, f"class {label[:20]!r} is negative")
        raw = cols[1].split(" ")
        if not 0 <= pos < len(raw):
            raise DatasetFormatError(data_path, lineno, f"position {pos} outside the {len(raw)} tokens")
        # drop empty tokens (double spaces), keeping the position on the same token
        index = pos - sum(1 for t in raw[:pos] if not t)
        tokens = tuple(t for t in raw if t)
        if not 0 <= index < len(tokens):
            raise DatasetFormatError(data_path, lineno, f"position {pos} is at an empty token after the last word "
                                                        f"({len(tokens)} words)")
        items.append(
            WSDItem(
                f"{word}:{split}:{lineno}", word, tokens, index, cls, bool(raw[pos]) and tokens[index] == word
            )
        )
    if not items:
        raise DatasetFormatError(data_path, 0, "no sentences (empty file?)")
    return items


def load_coarsewsd(word: str, split: str) -> list[WSDItem]:
    """The verified items of ``word``'s ``train`` or ``test`` split."""
    if word not in _SHA256:
        raise KeyError(f"CoarseWSD-20 has no word {word!r}; words: {WORDS}")
    if split not in ("train", "test"):
        raise ValueError(f"CoarseWSD-20 split {split!r}; allowed: ('train', 'test')")
    return read_split(
        fetch("coarsewsd20", f"{word}/{split}.data"),
        fetch("coarsewsd20", f"{word}/{split}.gold"),
        word,
        split,
    )


def load_classes(word: str) -> dict[int, str]:
    """The sense labels of ``word``: class number -> label."""
    return read_classes(fetch("coarsewsd20", f"{word}/classes_map"))
