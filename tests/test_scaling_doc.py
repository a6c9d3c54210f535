"""deploy/SCALING.md states the index counts of deploy/scaling_figures.py: they must not drift apart."""

import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _figures():
    spec = importlib.util.spec_from_file_location("scaling_figures", ROOT / "deploy" / "scaling_figures.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_index_counts_in_scaling_md_are_the_declared_ones():
    text = (ROOT / "deploy" / "SCALING.md").read_text()
    sentence = text[text.index("Indexes per collection"):text.index("MongoDB allows 64")]
    stated = {name: int(count) for name, count in re.findall(r"(\w+) (\d+)", sentence)}
    declared = _figures().indexes()
    assert stated == {name: len(keys) + 1 for name, keys in declared.items()}
    assert max(stated.values()) <= 64                      # MongoDB's limit per collection


def test_index_entries_count_nulls_and_array_elements():
    figures = _figures()
    keys = [[("_idx.status.t", 1)], [("_idx.patient.r", 1)], [("_acl.patients", 1), ("deleted", 1)]]
    doc = {"_idx": {"status": {"t": ["current", "|current"]}}, "_acl": {"patients": ["p1", "p2", "p3"]}}
    # _id, 2 status keys, patient missing (indexed as null: 1), 3 compartment patients
    assert figures.index_entries(doc, keys) == 1 + 2 + 1 + 3
