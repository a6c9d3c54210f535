"""Date search: ranges with the spec's prefix semantics, partial precision, offsets, Paris by default."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from fhir_server.errors import BadRequest

from ..stores import requires


@pytest.fixture
def docs(db):
    def doc(id, date=None, period=None):
        res = {"resourceType": "DocumentReference", "status": "current", "content": []}
        if date:
            res["date"] = date
        if period:
            res["context"] = {"period": period}
        db.put(res, id)
    doc("late-feb-utc", "2024-02-29T23:30:00Z")        # 1 March 00:30 in Paris
    doc("mar1-paris", "2024-03-01T12:00:00+01:00")
    doc("mar1-end", "2024-03-01T22:59:59Z")            # 23:59:59 in Paris
    doc("mar2", "2024-03-02T00:00:00+01:00")
    doc("feb28", "2024-02-28T10:00:00Z")
    doc("none")
    doc("p-march", period={"start": "2024-03-01", "end": "2024-03-31"})
    doc("p-open", period={"start": "2024-02-15T08:00:00+01:00"})
    return db


@requires("elemmatch_subdocuments")
def test_a_day_without_offset_is_a_paris_day(docs):
    assert docs.ids("DocumentReference", "date=2024-03-01") == {"late-feb-utc", "mar1-paris", "mar1-end"}


@requires("elemmatch_subdocuments")
def test_offsets_in_the_search_value(docs):
    assert docs.ids("DocumentReference", "date=2024-03-01T00:30:00+01:00") == {"late-feb-utc"}
    assert docs.ids("DocumentReference", "date=2024-02-29T23:30:00Z") == {"late-feb-utc"}
    assert docs.ids("DocumentReference", "date=2024-02-29T23:30Z") == {"late-feb-utc"}       # minute precision
    assert docs.ids("DocumentReference", "date=2024-03-01T00:30:00 01:00") == {"late-feb-utc"}  # '+' read as ' '


@requires("elemmatch_subdocuments")
def test_partial_precision(docs):
    assert docs.ids("DocumentReference", "date=2024-03") == {"late-feb-utc", "mar1-paris", "mar1-end", "mar2"}
    assert docs.ids("DocumentReference", "date=2024") == {"late-feb-utc", "mar1-paris", "mar1-end", "mar2", "feb28"}
    assert docs.ids("DocumentReference", "date=2024-02") == {"feb28"}


@requires("elemmatch_subdocuments")
def test_gt_lt_ge_le(docs):
    assert docs.ids("DocumentReference", "date=gt2024-03-01") == {"mar2"}
    assert docs.ids("DocumentReference", "date=ge2024-03-01") == {"late-feb-utc", "mar1-paris", "mar1-end", "mar2"}
    assert docs.ids("DocumentReference", "date=lt2024-03-01") == {"feb28"}
    assert docs.ids("DocumentReference", "date=le2024-03-01") == {"feb28", "late-feb-utc", "mar1-paris", "mar1-end"}


@requires("elemmatch_subdocuments")
def test_ne_excludes_the_day_and_resources_without_a_date(docs):
    assert docs.ids("DocumentReference", "date=ne2024-03-01") == {"mar2", "feb28"}


@requires("elemmatch_subdocuments")
def test_sa_eb_on_periods(docs):
    assert docs.ids("DocumentReference", "period=sa2024-02-28") == {"p-march"}
    assert docs.ids("DocumentReference", "period=eb2024-04-01") == {"p-march"}
    assert docs.ids("DocumentReference", "period=eb2024-03-31") == set()          # ends within that day


@requires("elemmatch_subdocuments")
def test_period_ranges(docs):
    # the search day lies inside both periods but neither period lies inside the day
    assert docs.ids("DocumentReference", "period=2024-03-10") == set()
    assert docs.ids("DocumentReference", "period=2024-03") == {"p-march"}
    assert docs.ids("DocumentReference", "period=gt2024-03-10") == {"p-march", "p-open"}   # open end
    assert docs.ids("DocumentReference", "period=lt2024-03-01") == {"p-open"}
    assert docs.ids("DocumentReference", "period=ge2024-04-01") == {"p-open"}


@requires("elemmatch_subdocuments")
def test_ap_is_approximately(docs):
    """ap reaches 10 % of the distance to now on each side (at least a day): the days are placed by that distance,
    so that the answer does not change with the day the test runs."""
    assert "mar1-paris" in docs.ids("DocumentReference", "date=ap2024-03-01")
    feb28, today = date(2024, 2, 28), datetime.now(timezone.utc).date()
    far = feb28 + (today - feb28) / 5      # feb28 is d/5 before it; its reach (4d/5) / 10 = 0.08 d falls short
    near = feb28 + (today - feb28) / 15    # feb28 is d/15 (0.067 d) before it; its reach (14d/15) / 10 = 0.093 d
    assert "feb28" not in docs.ids("DocumentReference", f"date=ap{far.isoformat()}")
    assert "feb28" in docs.ids("DocumentReference", f"date=ap{near.isoformat()}")


@requires("elemmatch_subdocuments")
def test_and_builds_a_range(docs):
    assert docs.ids("DocumentReference", "date=ge2024-03-01&date=lt2024-03-02") == \
        {"late-feb-utc", "mar1-paris", "mar1-end"}


@requires("elemmatch_subdocuments")
def test_or_of_days(docs):
    assert docs.ids("DocumentReference", "date=2024-02-28,2024-03-02") == {"feb28", "mar2"}


def test_missing(docs):
    assert docs.ids("DocumentReference", "date:missing=true") == {"none", "p-march", "p-open"}


@pytest.mark.parametrize("value", ["2024-13-01", "2024-02-30", "yesterday", "2024-3-1", "xx2024-03-01",
                                   "2024-03-01T25:00", "2024-03-01T10:00+25:00", "24"])
def test_malformed_dates_and_prefixes_are_refused(db, value):
    with pytest.raises(BadRequest) as err:
        db.ids("DocumentReference", f"date={value}")
    assert "date" in err.value.diagnostics


@requires("elemmatch_subdocuments")
def test_birthdate_day(db):
    db.put({"resourceType": "Patient", "birthDate": "1980-01-15"}, "p")
    assert db.ids("Patient", "birthdate=1980-01-15") == {"p"}
    assert db.ids("Patient", "birthdate=1980") == {"p"}
    assert db.ids("Patient", "birthdate=1980-01-14") == set()
    assert db.ids("Patient", "birthdate=gt1980-01-14&birthdate=lt1980-01-16") == {"p"}
    assert db.ids("Patient", "birthdate=1980-01-15T00:30:00+01:00") == set()   # a day is not inside a second


@requires("elemmatch_subdocuments")
def test_last_updated(db):
    db.put({"resourceType": "Patient"}, "old", last_updated="2025-01-01T10:00:00Z")
    db.put({"resourceType": "Patient"}, "new", last_updated="2025-06-01T10:00:00Z")
    assert db.ids("Patient", "_lastUpdated=gt2025-03-01") == {"new"}
    assert db.ids("Patient", "_lastUpdated=2025-01-01") == {"old"}
    assert db.ids("Patient", "_lastUpdated=le2025-01-01T11:00:00+01:00") == {"old"}


def test_the_servers_own_instants_read_by_position_as_the_full_pattern_reads_them():
    """`YYYY-MM-DDThh:mm:ss.fffZ` (what the server writes) takes a shorter path: the same range, the same refusals,
    for valid, edge and malformed instants of that shape; those near it take the full pattern."""
    import random

    from fhir_server.search.types.date import _parsed_range, _utc_milliseconds

    rng = random.Random(7)
    texts = [f"{rng.randint(1, 9999):04d}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:"
             f"{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}.{rng.randint(0, 999):03d}Z" for _ in range(2000)]
    texts += ["9999-12-31T23:59:59.999Z", "0001-01-01T00:00:00.000Z", "2024-02-29T12:00:60.500Z",
              "2023-02-29T12:00:00.000Z", "2024-13-01T00:00:00.000Z", "2024-01-01T24:00:00.000Z",
              "2024-01-01T23:60:00.000Z", "２０２４-01-01T00:00:00.000Z", "2024-01-01T00:00:00.000z",
              " 2024-01-01T00:00:00.000Z", "2024-01-01T00:00:00.0000Z", "2024-01-01T00:00:00.00Z",
              "2024-01-01T00:00:00.000+00:00", "2024-01-01 00:00:00.000Z", "2024-01-01T00:00:00,000Z"]

    def outcome(parse, text):
        try:
            return parse(text)
        except (ValueError, OverflowError) as error:
            return type(error)

    shortcut = 0
    for text in texts:
        fast = outcome(_utc_milliseconds, text)
        if fast is None:
            continue
        shortcut += 1
        assert fast == outcome(_parsed_range, text), text
        if isinstance(fast, tuple):
            assert all(t.tzinfo is not None and t.utcoffset().total_seconds() == 0 for t in fast)
    assert shortcut >= 2000 + 7           # the shape was taken by the shortcut, refusals included
