"""Last-Modified is written as RFC 9110's IMF-fixdate, exactly as email.utils.format_datetime(usegmt=True) writes it,
and the format negotiation remembered per header answers as a fresh one does."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from fhir_server.api.formats import JSON, XML, negotiate
from fhir_server.api.responses import http_date
from fhir_server.errors import NotAcceptable


def test_http_date_is_what_the_standard_library_writes_for_every_kind_of_instant():
    rng = random.Random(7)
    start = datetime(1, 1, 1, tzinfo=timezone.utc)
    instants = [datetime(2026, 12, 3, 9, 5, 7, 123000, tzinfo=timezone.utc), datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone.utc)]
    instants += [start + timedelta(seconds=rng.randrange(315_537_897_599)) for _ in range(5000)]
    for moment in instants:
        assert http_date(moment) == format_datetime(moment, usegmt=True), moment
    paris = timezone(timedelta(hours=1))
    assert http_date(datetime(2026, 1, 1, 0, 30, tzinfo=paris)) == "Wed, 31 Dec 2025 23:30:00 GMT"


@pytest.mark.parametrize("accept, expected", [("application/fhir+xml", XML), ("application/fhir+json", JSON),
                                              ("text/html, application/xml;q=0.9", XML), ("", JSON)])
def test_a_remembered_negotiation_answers_as_the_first(accept, expected):
    assert negotiate(None, accept) == negotiate(None, accept) == expected


def test_an_unacceptable_header_is_refused_every_time_not_only_the_first():
    for _ in range(3):
        with pytest.raises(NotAcceptable):
            negotiate(None, "text/html")
        with pytest.raises(NotAcceptable):
            negotiate("yaml", "")
