"""Fuzzing the suite reader (bench/suite.py): a damaged suite YAML is refused with ConfigError naming
the file and the line or key, or read into a suite whose cell keys can be computed; never another
exception, never a hang.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from fuzzing import FUZZ, YAML_JUNK, check_refused_or_valid, damaged, damaged_json
from hypothesis import given
from hypothesis import strategies as st

from bench.suite import Suite, cell_key
from embeddings.support.errors import ConfigError

VALID = {
    "name": "fuzz",
    "description": "a suite to damage",
    "settings": {"n_boot": 100, "seed": 0},
    "embedders": ["random", "glove-6b-50d", {"name": "minilm-l6", "options": {"pooling": "mean"}}],
    "tasks": ["simlex999", "ws353", {"name": "wic", "settings": {"max_train": 300, "max_test": None}},
              {"name": "static-from-contextual", "settings": {"datasets": ["simlex999", "ws353"], "window": 5}}],
}
VALID_YAML = yaml.safe_dump(VALID, sort_keys=False, default_flow_style=False)


def _plain(value: object) -> bool:
    """Text, a finite number, a boolean, null, or lists / text-keyed mappings of those."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    return value is None or isinstance(value, str | int | bool)


def _yaml_has_duplicate_keys(text: str) -> bool:
    """An independent oracle: some mapping of the document gives a key twice (merge keys aside)."""

    def walk(node: yaml.Node) -> bool:
        if isinstance(node, yaml.MappingNode):
            keys = [(k.tag, k.value) for k, _ in node.value
                    if isinstance(k, yaml.ScalarNode) and k.tag != "tag:yaml.org,2002:merge"]
            return len(keys) != len(set(keys)) or any(walk(k) or walk(v) for k, v in node.value)
        if isinstance(node, yaml.SequenceNode):
            return any(walk(n) for n in node.value)
        return False

    return walk(yaml.compose(text))


def _validate(suite: Suite) -> None:
    assert suite.embedders and suite.tasks and isinstance(suite.name, str)
    for spec in suite.embedders + suite.tasks:
        assert isinstance(spec.name, str) and spec.name.strip()
    assert all(_plain(e.options) for e in suite.embedders) and all(_plain(t.settings) for t in suite.tasks)
    keys = [cell_key(e, t) for e in suite.embedders for t in suite.tasks]  # hashes every setting
    assert len(set(keys)) == len(keys)


@st.composite
def damaged_yaml(draw: st.DrawFn, valid: dict) -> bytes:
    """``valid`` dumped as YAML with one value or key replaced by raw YAML junk (a tag, a date, an
    alias, .nan, a flow mapping with a key twice ...)."""
    import copy

    from fuzzing import _paths

    obj = copy.deepcopy(valid)
    path = draw(st.sampled_from([p for p in _paths(obj) if p]))
    parent = obj
    for k in path[:-1]:
        parent = parent[k]
    if isinstance(parent, dict) and draw(st.booleans()):
        parent["__JUNK__"] = parent.pop(path[-1])  # the key itself becomes junk
    else:
        parent[path[-1]] = "__JUNK__"
    text = yaml.safe_dump(obj, sort_keys=False, default_flow_style=draw(st.booleans()))
    return text.replace("__JUNK__", draw(st.sampled_from(YAML_JUNK)), 1).encode()


@FUZZ
@given(data=st.data(), kind=st.sampled_from(["json", "text", "yaml"]))
def test_suite_files(tmp_path: Path, data: st.DataObject, kind: str) -> None:
    path = tmp_path / "suite.yaml"
    damage = {"json": damaged_json(VALID), "text": damaged(VALID_YAML, sep=" ", extra_junk=YAML_JUNK),
              "yaml": damaged_yaml(VALID)}[kind]
    path.write_bytes(data.draw(damage))
    def validate(suite: Suite) -> None:
        _validate(suite)
        assert not _yaml_has_duplicate_keys(path.read_text()), "a key given twice was accepted"

    check_refused_or_valid(lambda: Suite.load(path), [path], errors=ConfigError, validate=validate,
                           where="line-or-key")


@pytest.mark.parametrize("text, match", [
    ("embedders: [random]\ntasks: [ws353]\ntasks: [simlex999]\n",
     r"suite\.yaml:3: .*key 'tasks' again \(first on line 2\)"),
    ("embedders: random\ntasks: [ws353]\n", r"key 'embedders': expected a list"),
    ("embedders: [random]\ntasks: [ws353]\nsettings: [1, 2]\n", r"key 'settings': expected a mapping"),
    ("embedders: [random]\ntasks: [ws353]\nsettings: {when: 2024-02-30}\n",
     r"suite\.yaml:3: invalid YAML \(cannot build this value"),
    ("embedders: [random]\ntasks: [ws353]\nsettings: {when: 2024-02-28}\n", r"key 'settings\.when': date values"),
    ("embedders: [random]\ntasks: [ws353]\nsettings: {x: .nan}\n", r"key 'settings\.x': nan is not a finite"),
    ("embedders: [random]\ntasks: [ws353]\n1: x\n", r"key '1': unknown suite keys"),
    ("embedders: [random]\ntasks: [{name: 5}]\n", r"key 'tasks\[0\]\.name': expected a registry name"),
    ("embedders: [random]\ntasks: [ws353, ws353]\n", r"key 'tasks\[1\]': 'ws353' with the same settings"),
    ("name: [a]\nembedders: [random]\ntasks: [ws353]\n", r"key 'name': expected text"),
    ("embedders: [random]\ntasks: [ws353]\nsettings:\n  a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n"
     "  b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n  c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
     "  d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n  e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n",
     r"key 'settings\..*': more than 10000 values"),
    ("embedders: [random]\ntasks: [ws353]\nsettings: &x {a: *x}\n", r"key 'settings\..*': more than 10000 values"),
    ("[" * 5000 + "]" * 5000, r"suite\.yaml"),
])
def test_suite_holes_are_closed(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=match):
        Suite.load(path)


def test_invalid_utf8_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_bytes(b"embedders: [random]\ntasks: [caf\xe9]\n")
    with pytest.raises(ConfigError, match=r"suite\.yaml:2: not UTF-8"):
        Suite.load(path)


def test_merge_keys_may_override(tmp_path: Path) -> None:
    path = tmp_path / "suite.yaml"
    path.write_text("embedders: [random]\ntasks:\n  - {name: wic, settings: {<<: {max_train: 1, seed: 0}, seed: 3}}\n")
    assert Suite.load(path).tasks[0].settings == {"max_train": 1, "seed": 3}
