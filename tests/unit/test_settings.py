"""Activation settings: the simulator's configuration from JSON or a file, and refused values."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tmfstack.apis.activation.adapters import Behaviour, Simulator
from tmfstack.settings import Settings

CONFIG = {"seed": 7, "default": {"latency": 0.5}, "ss-rfs-home-gateway": {"failureRate": 1}}


def test_the_simulator_reads_json_text() -> None:
    simulator = Simulator.from_config(Settings(simulator=json.dumps(CONFIG)).simulator_config())
    assert simulator.seed == 7
    assert simulator.default == Behaviour(latency=0.5)
    assert simulator.per_spec == {"ss-rfs-home-gateway": Behaviour(failure_rate=1.0)}


def test_the_simulator_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "simulator.json"
    path.write_text(json.dumps(CONFIG), encoding="utf-8")
    assert Settings(simulator=f"@{path}").simulator_config() == CONFIG


def test_a_seeded_simulator_decides_the_same_way_every_time() -> None:
    simulator = Simulator(seed=3, default=Behaviour(failure_rate=0.5))
    service = {"serviceSpecification": {"id": "ss-x", "name": "X"}, "state": "active"}
    first = [simulator.decide(service, f"m{i}").ok for i in range(200)]
    assert first == [simulator.decide(service, f"m{i}").ok for i in range(200)]
    assert 60 < sum(first) < 140  # about half fail
    assert first != [
        Simulator(seed=4, default=Behaviour(failure_rate=0.5)).decide(service, f"m{i}").ok for i in range(200)
    ]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"simulator": "[1, 2]"}, "JSON object"),
        ({"activation_failure": "retry"}, "fail or hold"),
    ],
)
def test_bad_activation_settings_are_refused(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**overrides).simulator_config()
