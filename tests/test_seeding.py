"""seed_data/ loads through the API path, and loading it twice changes nothing."""

from fhir_server.seeding import default_seed_dir, load_seed


def test_seed_loads_every_entry_and_is_idempotent(store, settings):
    loaded = load_seed(store, settings)
    assert loaded > 0
    versions_after_first = store.count_history({})
    assert load_seed(store, settings) == loaded
    assert store.count_history({}) == versions_after_first


def test_seed_dir_is_the_project_folder():
    assert (default_seed_dir() / "README.md").exists()
