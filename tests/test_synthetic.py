"""`dmp-fhir seed --patients N`: a consistent generated set that the access rules apply to."""

from fhir_server.synthetic import generate, load_generated, nir


def test_generated_set_is_consistent_and_idempotent(app, store, settings, as_actor):
    loaded = load_generated(store, settings, 30, app.state.audit)
    assert store.count("Patient", {}) == 30
    assert loaded == sum(len(b["entry"]) for b in generate(30))
    versions = store.count_history({})
    load_generated(store, settings, 30)
    assert store.count_history({}) == versions
    # every record was read once by its GP: traces exist, and the chains hold
    assert store.count("AuditEvent", {"_acl.patients": "syn-pat-0"}) >= 1
    gp = as_actor("Practitioner/syn-gp-0")
    all_docs = store.count("DocumentReference", {"_acl.patients": "syn-pat-0"})
    assert gp.get("DocumentReference?patient=Patient/syn-pat-0").json()["total"] == all_docs


def test_specialist_sees_authorised_records_without_masked_documents(app, store, settings, as_actor):
    load_generated(store, settings, 30)
    specialist = as_actor("Practitioner/syn-spe-0")
    visible = specialist.get("DocumentReference?patient=Patient/syn-pat-0&_count=100").json()
    masked = store.count("DocumentReference", {"_acl.patients": "syn-pat-0", "_acl.labels": "MASQUE_PS",
                                               "_acl.authors": {"$ne": "Practitioner/syn-spe-0"}})
    assert visible["total"] == store.count("DocumentReference", {"_acl.patients": "syn-pat-0"}) - masked
    # syn-pat-1: no consent (1 % 3), no care team (1 % 5), no document of his: nothing
    assert specialist.get("Patient/syn-pat-1").status_code in (403, 404)


def test_nir_keys_are_valid():
    value = nir(2, 1979, 3, 42)
    assert len(value) == 15 and int(value[-2:]) == 97 - int(value[:13]) % 97


def test_generated_bundles_name_every_entry_by_its_absolute_url():
    for bundle in generate(2):
        assert bundle["type"] == "transaction"
        for entry in bundle["entry"]:
            r = entry["resource"]
            assert entry["fullUrl"] == f"https://dmp-fhir-server.example/fhir/{r['resourceType']}/{r['id']}"
