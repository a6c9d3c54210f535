from tests.access.test_invisible_patient import *
import json
def test_probe(record):
    record(MT).get(f"DocumentReference/{HIDDEN}")
    b = record(f"Patient/{P}").get(f"AuditEvent?patient=Patient/{P}&_count=200").json()
    for e in b.get("entry", []):
        s = json.dumps(e["resource"])
        if HIDDEN in s:
            r = e["resource"]
            print(r["id"], r.get("type"), [a.get("who") for a in r["agent"]], [en.get("what") for en in r.get("entity",[])])
            d = record.app.state.store.read_doc("AuditEvent", r["id"])
            print(d and d.get("_acl"))
    assert 0
