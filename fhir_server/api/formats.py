"""FHIR formats at the HTTP edge: https://hl7.org/fhir/R4/http.html#mime-type and https://hl7.org/fhir/R4/xml.html

The services speak FHIR JSON only. This module picks the response format (``_format`` first, then ``Accept``)
and converts XML request bodies to JSON and JSON answers to XML, with fhir.resources' own XML
(de)serialisation (``model_validate_xml`` / ``model_dump_xml``, lxml underneath). Checked faithful for
extensions on primitives (``_given``), contained resources, narrative XHTML, Binary/base64 and nested
resources in Bundles and Parameters. Two differences, handled or accepted: fhir.resources rewrites an
instant or dateTime through Python's datetime (``.123Z`` → ``.123000+00:00``, the same instant), which
``_instant_text`` turns back into the server's own spelling (milliseconds, ``Z``), so the XML and the JSON of a
stored resource carry the same text; a decimal keeps its value, not its trailing zeros (as our JSON parsing
does already).
"""

from __future__ import annotations

import re
from functools import lru_cache

import orjson
import pydantic
from fhir.resources.R4B import get_fhir_model_class
from fastapi import Request
from lxml import etree

from ..errors import BadRequest, NotAcceptable
from .headers import headers_of

JSON, XML = "json", "xml"
FHIR_JSON = "application/fhir+json; charset=utf-8"
FHIR_XML = "application/fhir+xml; charset=utf-8"
JSON_NAMES = ("json", "application/json", "application/fhir+json", "application/json+fhir")
XML_NAMES = ("xml", "text/xml", "application/xml", "application/fhir+xml", "application/xml+fhir")
XML_TYPES = XML_NAMES[1:]
FHIR_NS = "http://hl7.org/fhir"
# a whole quoted date-time value, as Python's isoformat writes it (the quotes anchor it)
_DATETIME = re.compile(rb'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d{6})?([+-]\d\d:\d\d)"')


@lru_cache(maxsize=256)
def negotiate(format_param: str | None, accept: str) -> str:
    """JSON or XML for the answer; 406 when the client accepts neither. (A client sends the same Accept header
    with every request: remembered, a few of them, rather than parsed each time.)"""
    if format_param is not None:
        name = format_param.split(";")[0].strip().lower()
        if name in JSON_NAMES:
            return JSON
        if name in XML_NAMES:
            return XML
        raise NotAcceptable(f"_format={format_param} is not served: use json or xml")
    for wanted in _accepted(accept):
        if wanted in JSON_NAMES or wanted.endswith("/*"):
            return JSON
        if wanted in XML_TYPES:
            return XML
    if accept.strip():
        raise NotAcceptable(f"Accept: {accept} is not served: use application/fhir+json or application/fhir+xml")
    return JSON


def _accepted(accept: str) -> list[str]:
    """Media ranges by decreasing q (stable for equal q), q=0 left out."""
    ranges = []
    for position, part in enumerate(p for p in accept.split(",") if p.strip()):
        media, *options = [s.strip() for s in part.split(";")]
        q = 1.0
        for option in options:
            if option.startswith("q="):
                try:
                    q = float(option[2:])
                except ValueError:
                    q = 0.0
        if q > 0:
            ranges.append((-q, position, media.lower()))
    return [media for _, _, media in sorted(ranges)]


def request_format(request: Request) -> str:
    """The format negotiated for this request (JSON until negotiation ran, e.g. for a 406 itself)."""
    return getattr(request.state, "fhir_format", JSON)


def negotiate_request(request: Request) -> str:
    """Negotiates once per request and remembers it, so errors raised later answer in the same format."""
    format_param = request.query_params.get("_format") if request.scope.get("query_string") else None
    request.state.fhir_format = negotiate(format_param, headers_of(request).get("accept", ""))
    return request.state.fhir_format


def is_xml(media_type: str) -> bool:
    return media_type in XML_TYPES


def media_type(fmt: str) -> str:
    return FHIR_XML if fmt == XML else FHIR_JSON


def dumps(body: dict, fmt: str) -> bytes:
    """The answer's bytes: the stored JSON as is, or its FHIR XML."""
    if fmt == JSON:
        return orjson.dumps(body)
    model = get_fhir_model_class(body["resourceType"]).model_validate(body)
    return _DATETIME.sub(_instant_text, model.model_dump_xml(xml_declaration=True))


def parse_xml(raw: bytes) -> dict:
    """A FHIR XML request body as FHIR JSON; 400 OperationOutcome when it is not FHIR XML."""
    if not raw.strip():
        raise BadRequest("The request body is empty: an XML resource was expected")
    root = _root(raw)
    qname = etree.QName(root)
    if qname.namespace != FHIR_NS:
        raise BadRequest(f"the root element must be in the FHIR namespace {FHIR_NS}, not '{qname.namespace}'")
    try:
        model_class = get_fhir_model_class(qname.localname)
    except (KeyError, ValueError):
        model_class = None
    if model_class is None or not model_class.has_resource_base():
        raise BadRequest(f"'{qname.localname}' is not a FHIR resource type")
    try:
        model = model_class.model_validate_xml(raw, xmlparser=_parser())
    except (pydantic.ValidationError, ValueError, TypeError, KeyError, AttributeError, etree.XMLSyntaxError) as error:
        raise BadRequest(f"the XML body is not a valid {qname.localname}: {_first_line(error)}") from None
    return orjson.loads(_DATETIME.sub(_instant_text, model.model_dump_json().encode()))


def _instant_text(match: re.Match) -> bytes:
    """``.123000`` → ``.123`` (microseconds that only pad milliseconds) and ``+00:00`` → ``Z``."""
    seconds, fraction, zone = match.group(1), match.group(2) or b"", match.group(3)
    if fraction.endswith(b"000"):
        fraction = fraction[:4]
    return b'"' + seconds + fraction + (b"Z" if zone == b"+00:00" else zone) + b'"'


def _root(raw: bytes):
    try:
        return etree.fromstring(raw, parser=_parser())
    except etree.XMLSyntaxError as error:
        raise BadRequest(f"The request body is not well-formed XML: {error}") from None


def _parser() -> etree.XMLParser:
    """No entities, no DTD, no network: an XML body cannot read files or call out (XXE).
    A new parser per body: lxml parsers are not to be shared between threads."""
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                           remove_comments=True)


def _first_line(error: Exception) -> str:
    return " ".join(str(error).split("\n")[:3])[:500]
