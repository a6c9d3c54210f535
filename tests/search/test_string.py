"""String search: starts-with on folded values by default, `:exact` on the value as written, `:contains`."""

from __future__ import annotations

import pytest

from fhir_server.errors import BadRequest


@pytest.fixture
def people(db):
    db.put({"resourceType": "Patient", "name": [{"family": "Lefèvre", "given": ["Hélène"]}]}, "helene")
    db.put({"resourceType": "Patient", "name": [{"family": "Lefebvre", "given": ["Jean-Pierre"]}]}, "jp")
    db.put({"resourceType": "Patient", "name": [{"family": "Martin", "given": ["Léa"]}],
            "address": [{"city": "Saint-Étienne", "postalCode": "42000"}]}, "lea")
    db.put({"resourceType": "Patient", "name": [{"text": "Dr Paul LEFÈVRE"}]}, "paul")
    return db


def test_default_is_case_and_accent_insensitive_starts_with(people):
    assert people.ids("Patient", "family=lefevre") == {"helene"}
    assert people.ids("Patient", "family=LEF") == {"helene", "jp"}
    assert people.ids("Patient", "given=helene") == {"helene"}
    assert people.ids("Patient", "name=lef") == {"helene", "jp"}     # family, given, prefix, text…
    assert people.ids("Patient", "name=dr paul l") == {"paul"}       # …each starting with the value
    assert people.ids("Patient", "family=efevre") == set()                  # not a prefix


def test_exact_compares_the_value_as_written(people):
    assert people.ids("Patient", "family:exact=Lefèvre") == {"helene"}
    assert people.ids("Patient", "family:exact=lefèvre") == set()
    assert people.ids("Patient", "family:exact=Lef") == set()


def test_contains_finds_inside_words_and_across_separators(people):
    assert people.ids("Patient", "family:contains=fèv") == {"helene"}
    assert people.ids("Patient", "given:contains=an-pi") == {"jp"}
    assert people.ids("Patient", "given:contains=pierre") == {"jp"}
    assert people.ids("Patient", "given:contains=anpi") == set()
    assert people.ids("Patient", "name:contains=ul lef") == {"paul"}
    assert people.ids("Patient", "address-city:contains=etienne") == {"lea"}


def test_or_with_commas_and_with_repeats(people):
    assert people.ids("Patient", "family=martin,lefebvre") == {"lea", "jp"}
    assert people.ids("Patient", "family=lef&given=jean") == {"jp"}
    assert people.ids("Patient", "family=lef&given=lea") == set()


def test_address_parts(people):
    assert people.ids("Patient", "address=saint-e") == {"lea"}
    assert people.ids("Patient", "address-postalcode=42") == {"lea"}


def test_missing(people):
    assert people.ids("Patient", "address:missing=true") == {"helene", "jp", "paul"}
    assert people.ids("Patient", "address:missing=false") == {"lea"}
    with pytest.raises(BadRequest):
        people.ids("Patient", "address:missing=maybe")


def test_regex_characters_are_literal(db):
    db.put({"resourceType": "Patient", "name": [{"family": "O'Brien (jr.)"}]}, "ob")
    db.put({"resourceType": "Patient", "name": [{"family": "Obrien"}]}, "o")
    assert db.ids("Patient", "family=o'brien (j") == {"ob"}
    assert db.ids("Patient", "family=o.") == set()
    assert db.ids("Patient", "family:contains=(jr.)") == {"ob"}
