"""The suite's ray: key: resource requests per model actor and per cell, validated when the suite is read."""

from __future__ import annotations

import pytest

from bench.executors.resources import RaySettings, demand, fits, parse_bytes
from bench.suite import Suite

BASE = {"embedders": ["random", "glove-6b-50d"], "tasks": ["ws353"]}


def test_per_model_requests_override_the_default_key_by_key():
    s = Suite.from_dict({**BASE, "ray": {"default": {"num_cpus": 2, "memory": "1GB"},
                                         "resources": {"glove-6b-50d": {"num_gpus": 0.5}}, "cell": {"num_cpus": 0.5}}})
    assert s.ray.for_model("glove-6b-50d") == {"num_cpus": 2.0, "memory": 1e9, "num_gpus": 0.5}
    assert s.ray.for_model("random") == {"num_cpus": 2.0, "memory": 1e9}
    assert demand(s.ray.cell) == {"CPU": 0.5}
    assert s.select(tasks=["ws353"]).ray == s.ray  # a sub-suite keeps it
    assert Suite.from_dict(BASE).ray == RaySettings()  # one CPU per actor and per cell


def test_the_ray_key_is_not_part_of_any_cell_identity(tmp_path):
    from bench.runner import plan_run
    from bench.store import ResultStore

    plain = plan_run(Suite.from_dict(BASE), ResultStore(tmp_path))
    asked = plan_run(Suite.from_dict({**BASE, "ray": {"default": {"num_gpus": 1}}}), ResultStore(tmp_path))
    assert [[c.key for _, _, c in w.todo] for w in plain] == [[c.key for _, _, c in w.todo] for w in asked]


@pytest.mark.parametrize("ray, message", [
    ({"resources": {"glove-6b-50": {"num_cpus": 1}}}, "did you mean 'glove-6b-50d'"),
    ({"default": {"gpus": 1}}, r"unknown resource keys \['gpus'\]"),
    ({"cell": {"num_cpus": -1}}, "ray.cell.num_cpus: a non-negative number"),
    ({"default": {"memory": "lots"}}, "not an amount of memory"),
    ({"workers": 3}, r"unknown keys under ray: \['workers'\]"),
])
def test_bad_requests_name_the_file_and_key(ray, message):
    with pytest.raises(ValueError, match=message) as err:
        Suite.from_dict({**BASE, "ray": ray}, source="s.yaml")
    assert str(err.value).startswith("s.yaml: ")


def test_amounts_and_fitting():
    assert parse_bytes("1.5 GiB") == 1.5 * 2**30 and parse_bytes("2kb") == 2000
    assert fits({"CPU": 4.0, "GPU": 1.0}, {"CPU": 2.0, "GPU": 1.0}, {"CPU": 2.0})
    assert not fits({"CPU": 4.0}, {"CPU": 2.0}, {"CPU": 2.5})
