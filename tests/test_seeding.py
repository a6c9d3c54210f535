"""seed_data/ loads through the API path, loading it twice changes nothing, and its stories hold on any day."""

from datetime import date, datetime, timedelta, timezone

import pytest
import time_machine

from fhir_server.seeding import STORY_DAY, default_seed_dir, load_seed, moved

MOREL_HIDDEN = "doc-philippe-morel-cr-rcp-2026-11"


def test_seed_loads_every_entry_and_is_idempotent(store, settings):
    loaded = load_seed(store, settings)
    assert loaded > 0
    versions_after_first = store.count_history({})
    assert load_seed(store, settings) == loaded
    assert store.count_history({}) == versions_after_first


def test_seed_dir_is_the_project_folder():
    assert (default_seed_dir() / "README.md").exists()


@pytest.mark.parametrize("days_later", [0, 40, 400])
def test_seeded_stories_hold_whatever_day_the_seed_is_loaded(store, settings, as_actor, days_later):
    """The one-month INVISIBLE_PATIENT story (seed_data/README.md, story 6) and a running authorisation, with every
    clock of the process moved; with the seed's fixed dates both had lapsed 40 days on."""
    with time_machine.travel(datetime.now(timezone.utc) + timedelta(days=days_later), tick=True):
        load_seed(store, settings)
        mine = as_actor("Patient/pat-philippe-morel").get("DocumentReference?patient=Patient/pat-philippe-morel")
        ids = [entry["resource"]["id"] for entry in mine.json().get("entry", [])]
        assert mine.status_code == 200 and ids and MOREL_HIDDEN not in ids
        assert as_actor("Practitioner/pra-anne-collin").get(f"DocumentReference/{MOREL_HIDDEN}").status_code == 200
        assert as_actor("Practitioner/pra-isabelle-moreau").get("Patient/pat-david-cohen").status_code == 200
        assert as_actor("Practitioner/pra-olivier-lambert").get("Patient/pat-david-cohen").status_code == 403
        stored = as_actor("Device/x", scope="system/*.cruds").get(f"DocumentReference/{MOREL_HIDDEN}").json()
        told_on = datetime.now(timezone.utc).date()
        assert stored["date"] == f"{told_on - (STORY_DAY - date(2026, 11, 18))}T17:00:00+01:00"


def test_moving_the_seed_moves_days_only():
    seeded = {"birthDate": "2008-03-14", "period": {"start": "2026-11-01", "end": "2027-05-01"},
              "instant": "2026-11-18T17:00:00.123+01:00", "utc": "2026-02-28T23:30:00Z", "year": "1979",
              "month": "1979-03", "id": "doc-2026-11", "text": "2026-11-22 note", "code": "20261122",
              "not a day": "2026-02-30", "list": [{"date": "2026-12-31"}]}
    assert moved(seeded, 1) == {
        "birthDate": "2008-03-15", "period": {"start": "2026-11-02", "end": "2027-05-02"},
        "instant": "2026-11-19T17:00:00.123+01:00", "utc": "2026-03-01T23:30:00Z", "year": "1979",
        "month": "1979-03", "id": "doc-2026-11", "text": "2026-11-22 note", "code": "20261122",
        "not a day": "2026-02-30", "list": [{"date": "2027-01-01"}]}
    assert moved(seeded, 0) == seeded and moved(moved(seeded, -400), 400) == seeded
