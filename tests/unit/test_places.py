"""Address lookup of the places-and-markets reference data (apis/geography/places.py), with
hypothesis: spelling variants of a street share one key, house numbers are read from their
leading digits, and over a real store (SQLite, or PostgreSQL when TMFSTACK_TEST_DATABASE_URL is
set) an address inside a loaded house-number range finds that range's area and one outside
every range finds nothing."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.support.database import fresh_database_url
from tmfstack.apis.geography import places
from tmfstack.engine.core import Engine
from tmfstack.store.base import open_store

Doc = dict[str, Any]

LETTERS = "abcdefghijklmnopqrstuvwxyzäöüABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÜ"
#: a street's first part: letters, not itself ending in something the abbreviation rule reads
bases = st.text(alphabet=LETTERS, min_size=2, max_size=14)


def _url(folder: Path, name: str) -> str:
    return fresh_database_url(folder, name)


# -- normalised keys -----------------------------------------------------------------------


@given(base=bases, postcode=st.from_regex(r"[0-9]{4}", fullmatch=True))
def test_street_spellings_share_one_key(base: str, postcode: str) -> None:
    joined = {f"{base}straße", f"{base}strasse", f"{base}str.", f"{base}str", f"{base}STRASSE", f"{base}Straße"}
    apart = {f"{base} Straße", f"{base} Strasse", f"{base} Str.", f"{base} str", f"{base}  STRASSE "}
    assert len({places.street_key(postcode, s) for s in joined}) == 1, joined
    assert len({places.street_key(postcode, s) for s in apart}) == 1, apart
    # another postcode is another street
    assert places.street_key(postcode, f"{base}straße") != places.street_key(postcode + "1", f"{base}straße")


@given(base=bases)
def test_a_different_street_is_a_different_key(base: str) -> None:
    assert places.street_key("1010", f"{base}gasse") != places.street_key("1010", f"{base}straße")
    assert places.street_key("1010", f"{base}straße") != places.street_key("1010", f"{base}xstraße")


@pytest.mark.parametrize(
    "one, other",
    [
        ("Kärntner Straße", "Kärntner Str."),
        ("Kärntner Straße", "KÄRNTNER STRASSE"),
        ("Erzherzog-Karl-Straße", "Erzherzog-Karl-Str."),
        ("Erzherzog-Karl-Straße", "Erzherzog Karl Strasse"),
        ("Landstraße", "Landstr."),
    ],
)
def test_real_street_names(one: str, other: str) -> None:
    assert places.street_key("1010", one) == places.street_key("1010", other)


@given(number=st.integers(0, 10**6), suffix=st.sampled_from(["", "a", "b", " / 2", "-4", " Stiege 3"]))
def test_a_house_number_is_its_leading_digits(number: int, suffix: str) -> None:
    assert places.house_number(f"{number}{suffix}") == number
    assert places.house_number(number) == number


@pytest.mark.parametrize("value", [None, "", "A", "Top 3"])
def test_no_leading_digits_is_no_house_number(value: Any) -> None:
    assert places.house_number(value) is None


# -- lookup over a real store ----------------------------------------------------------------


class Store:
    """An engine over a fresh database and the event loop it runs in, for synchronous hypothesis tests."""

    def __init__(self, url: Any) -> None:
        """``url`` names the database (or is an unopened store)."""
        self.loop = asyncio.new_event_loop()
        self.engine = Engine(open_store(url) if isinstance(url, str) else url, [], public_url="http://test")
        self.run(self.engine.open())

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def load(self, data: Doc) -> Doc:
        return self.run(places.load(self.engine, data))

    def locate(self, place: Doc) -> places.Area | None:
        async def go() -> places.Area | None:
            async with self.engine.unit() as unit:
                return await places.locate(self.engine, unit, place)

        return self.run(go())

    def close(self) -> None:
        self.run(self.engine.store.close())
        self.loop.close()


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(_url(tmp_path_factory.mktemp("places"), "places.db"))
    s.load({"regions": [{"id": "AT"}], "technologies": [{"id": "T", "serviceSpecification": ["ss-t"]}]})
    try:
        yield s
    finally:
        s.close()


_postcodes = itertools.count(10_000)


@st.composite
def streets(draw: st.DrawFn) -> tuple[str, list[tuple[int, int]]]:
    """A street name and disjoint house-number ranges, in order (a range may be one house)."""
    name = draw(bases) + draw(st.sampled_from(["straße", "gasse", " Straße", "weg"]))
    bounds = sorted(draw(st.lists(st.integers(1, 400), min_size=1, max_size=12, unique=True)))
    ranges, rest = [], bounds
    while rest:
        if len(rest) >= 2 and draw(st.booleans()):
            ranges.append((rest[0], rest[1]))
            rest = rest[2:]
        else:
            ranges.append((rest[0], rest[0]))
            rest = rest[1:]
    return name, ranges


def _variant(name: str, which: int) -> str:
    """A spelling of ``name`` (which ends in straße/Straße or another word) that means the same street."""
    if name.casefold().endswith("straße"):
        stem = name[: -len("straße")]
        return [name, stem + "strasse", stem + "str.", (stem + "STRASSE").upper()][which % 4]
    return [name, name.upper(), name.lower(), f" {name} "][which % 4]


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(street=streets(), data=st.data())
def test_a_house_inside_a_loaded_range_is_found_and_one_outside_is_not(
    store: Store, street: tuple[str, list[tuple[int, int]]], data: st.DataObject
) -> None:
    name, ranges = street
    postcode = str(next(_postcodes))  # a street of its own for each example
    areas = [
        {
            "postcode": postcode,
            "street": name,
            "from": low,
            "to": high,
            "region": "AT",
            "technologies": [{"id": "T", "maxDownloadSpeed": n + 1}],
        }
        for n, (low, high) in enumerate(ranges)
    ]
    assert store.load({"areas": areas})["streets"] == 1

    def at(number: int, spelling: str = name, suffix: str = "") -> places.Area | None:
        place = {"postcode": postcode, "streetName": spelling, "streetNr": f"{number}{suffix}"}
        return store.locate(place)

    for n, (low, high) in enumerate(ranges):
        number = data.draw(st.integers(low, high), label=f"inside {low}-{high}")
        spelling = _variant(name, data.draw(st.integers(0, 3), label="spelling"))
        suffix = data.draw(st.sampled_from(["", "a", "/3"]), label="suffix")
        found = at(number, spelling, suffix)
        assert found is not None, (number, spelling, ranges)
        assert found.offers[0]["maxDownloadSpeed"] == n + 1, (number, ranges)
        assert found.region == "AT"

    covered = {h for low, high in ranges for h in range(low, high + 1)}
    outside = data.draw(st.integers(1, 500).filter(lambda h: h not in covered), label="outside")
    assert at(outside) is None, (outside, ranges)
    assert store.locate({"postcode": postcode}) is None  # no postcode-wide area was loaded
    assert store.locate({"postcode": postcode, "streetName": name}) is None  # no number: no range holds


@hsettings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(low=st.integers(1, 200), width=st.integers(0, 50), inner=st.data())
def test_the_narrowest_range_holds_and_the_postcode_catches_the_rest(
    store: Store, low: int, width: int, inner: st.DataObject
) -> None:
    postcode = str(next(_postcodes))
    high = low + width
    start = inner.draw(st.integers(low, high), label="inner from")
    end = inner.draw(st.integers(start, high), label="inner to")
    assume((start, end) != (low, high))  # strictly narrower (one range loaded twice is another question)
    street = {"postcode": postcode, "street": "Ringstraße", "region": "AT"}
    store.load(
        {
            "areas": [
                {**street, "from": low, "to": high, "technologies": [{"id": "T", "maxDownloadSpeed": 1}]},
                {**street, "from": start, "to": end, "technologies": [{"id": "T", "maxDownloadSpeed": 2}]},
                {"postcode": postcode, "region": "AT", "technologies": [{"id": "T", "maxDownloadSpeed": 3}]},
            ]
        }
    )

    def speed(number: int) -> int:
        found = store.locate({"postcode": postcode, "streetName": "Ringstr.", "streetNr": str(number)})
        assert found is not None
        return found.offers[0]["maxDownloadSpeed"]

    number = inner.draw(st.integers(low, high), label="number")
    assert speed(number) == (2 if start <= number <= end else 1)
    assert speed(high + 1) == 3  # outside the street's ranges: the postcode's area
    assert speed(low - 1) == 3


def test_a_place_by_id_is_an_area_or_a_region(store: Store) -> None:
    store.load({"areas": [{"id": "site-42", "region": "AT", "technologies": [{"id": "T"}]}]})
    site = store.locate({"id": "site-42"})
    assert site is not None and site.id == "site-42" and site.offers == ({"id": "T"},)
    region = store.locate({"id": "AT"})
    assert region is not None and region.region == "AT" and region.offers == ()
    assert store.locate({"id": "nowhere"}) is None
    assert store.locate(None) is None  # type: ignore[arg-type]


# -- the parsed header -----------------------------------------------------------------------


def test_a_new_store_never_reads_another_stores_header(tmp_path: Path) -> None:
    """The parsed header is cached by the engine that read it (``engine.reference``), keyed by the
    row's version. Two live stores whose headers have the same row version (each loaded once) read
    their own, and a store opened after another was closed reads its own data, not a header the
    other left cached: nothing is keyed by an object's address."""
    one, other = Store(f"sqlite:///{tmp_path / 'one.db'}"), Store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        one.load({"technologies": [{"id": "ONE"}]})
        other.load({"technologies": [{"id": "OTHER"}]})
        for _ in range(2):  # the second round reads the cached headers
            assert set(one.run(places.reference(one.engine)).technologies) == {"ONE"}
            assert set(other.run(places.reference(other.engine)).technologies) == {"OTHER"}
    finally:
        one.close()
        other.close()
    for name in ("old", "new"):  # the same row version in each; the second opens after the first closed
        store = Store(f"sqlite:///{tmp_path / name}.db")
        try:
            store.load({"technologies": [{"id": name.upper()}]})
            assert set(store.run(places.reference(store.engine)).technologies) == {name.upper()}
        finally:
            store.close()
