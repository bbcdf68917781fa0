"""``tmfstack reference FILE``: loads a places-and-markets data set into the database, and
refuses a bad one with a one-line reason and exit status 2 (nothing loaded)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from tmfstack.apis.geography.places import reference
from tmfstack.bootstrap import build_engine
from tmfstack.cli import main
from tmfstack.demo.reference import reference_data
from tmfstack.settings import Settings


def loaded(url: str) -> tuple[int, int]:
    async def read() -> tuple[int, int]:
        engine = build_engine(Settings(database_url=url))
        await engine.open()
        try:
            ref = await reference(engine)
            return len(ref.regions), len(ref.technologies)
        finally:
            await engine.store.close()

    return asyncio.run(read())


def test_a_data_set_is_loaded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = tmp_path / "ref.json"
    data.write_text(json.dumps(reference_data()), encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ref.db'}"
    assert main(["reference", str(data), "--database", url]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["areasLoaded"] == len(reference_data()["areas"])
    assert loaded(url) == (len(reference_data()["regions"]), len(reference_data()["technologies"]))


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ('{"areas": [{"postcode": "1010", "technologies": [{"id": "X"}]}]}', "unknown technology"),
        ('{"regions": [{"id": "AT-9", "parent": "AT"}]}', "unknown parent"),
        ("not json", "JSON"),
    ],
)
def test_a_bad_data_set_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, reason: str
) -> None:
    data = tmp_path / "bad.json"
    data.write_text(content, encoding="utf-8")
    url = f"sqlite:///{tmp_path / 'ref.db'}"
    assert main(["reference", str(data), "--database", url]) == 2
    assert reason.casefold() in capsys.readouterr().err.casefold()
    assert loaded(url) == (0, 0)
