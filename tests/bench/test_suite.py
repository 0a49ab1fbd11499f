"""Suite files: parsing, errors with file and key, tasks_from, per-model overrides, executor."""

from __future__ import annotations

import pytest

from bench.suite import Suite
from embeddings.support.errors import ConfigError, UnknownName


def test_the_built_in_suites_parse_and_name_known_things():
    for name in ("default", "full", "seeds"):
        suite = Suite.load(name)
        suite.validate_names()
        assert suite.embedders and suite.tasks and suite.executor == "local"


def test_tasks_from_copies_another_suites_tasks_exactly():
    seeds, default = Suite.load("seeds"), Suite.load("default")
    assert seeds.tasks == default.tasks
    with pytest.raises(ConfigError, match="either tasks: or tasks_from:"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["ws353"], "tasks_from": "default"})


def test_common_settings_apply_and_task_settings_win():
    s = Suite.from_dict({"settings": {"n_boot": 10, "seed": 3}, "embedders": ["random"],
                         "tasks": ["ws353", {"name": "wic", "settings": {"seed": 7}}]})
    assert s.tasks[0].settings == {"n_boot": 10, "seed": 3} and s.tasks[1].settings["seed"] == 7


def test_overrides_apply_to_the_named_models_only():
    s = Suite.from_dict({"embedders": ["random", "glove-6b-50d"], "tasks": ["wic", "ws353"],
                         "overrides": [{"embedders": ["glove-6b-50d"], "tasks": ["wic"],
                                        "settings": {"max_train": 100}}]})
    glove = {t.name: t.settings for t in s.tasks_for(s.embedders[1])}
    random = {t.name: t.settings for t in s.tasks_for(s.embedders[0])}
    assert glove["wic"] == {"max_train": 100} and random["wic"] == {} and glove["ws353"] == {}


@pytest.mark.parametrize("bad, message", [
    ({"embedders": ["random"], "tasks": ["ws353"], "task": []}, "unknown suite keys"),
    ({"embedders": [], "tasks": ["ws353"]}, "at least one embedder"),
    ({"embedders": [{"name": "random", "opts": {}}], "tasks": ["ws353"]}, r"embedders\[0\].: each entry"),
    ({"embedders": ["random"], "tasks": ["ws353"], "executor": "slurm"}, "executor 'slurm'"),
    ({"embedders": ["random"], "tasks": ["ws353"], "overrides": [{"settings": 3}]}, r"overrides\[0\]"),
])
def test_malformed_suites_are_refused_with_the_problem(bad, message):
    with pytest.raises(ConfigError, match=message):
        Suite.from_dict(bad, source="s.yaml")


def test_files_name_the_line_and_names_get_did_you_mean(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("embedders: [random\ntasks: [ws353]\n")
    with pytest.raises(ConfigError, match=r"bad.yaml:\d+"):
        Suite.load(bad)
    with pytest.raises(UnknownName, match="did you mean 'default'"):
        Suite.load("defualt")
    with pytest.raises(UnknownName, match="did you mean 'simlex999'"):
        Suite.from_dict({"embedders": ["random"], "tasks": ["simlex"]}).validate_names()


def test_a_task_can_be_limited_to_some_embedders():
    s = Suite.from_dict({"embedders": ["random", "glove-6b-50d"],
                         "tasks": ["ws353", {"name": "sst2", "settings": {"limit": 5}, "embedders": ["glove-6b-50d"]}]})
    assert [t.name for t in s.tasks_for(s.embedders[0])] == ["ws353"]
    assert [t.name for t in s.tasks_for(s.embedders[1])] == ["ws353", "sst2"]
    with pytest.raises(ConfigError, match=r"tasks\[0\].embedders"):
        Suite.from_dict({"embedders": ["random"], "tasks": [{"name": "ws353", "embedders": "random"}]})
