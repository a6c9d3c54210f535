"""FHIR search (https://hl7.org/fhir/R4/search.html) in three pure steps, as Blaze and Medplum do it:

    parameters.py  the query → clauses and result parameters
    compile.py     clauses → ONE MongoDB filter on the `_idx` values, sort, page cursor (chain.py for
                   chained parameters and _has, which resolve their inner search first)
    engine.py      run it on the store: page, total, includes (include.py), Bundle (bundle.py)

Write side: index.py `extract_index(resource)` evaluates every parameter's FHIRPath expression
(expressions.py) and normalises the values with the parameter type's module (types/), which also holds
the matching code, so indexing and searching cannot drift. registry.py is the one list of parameters;
indexes.py derives the MongoDB indexes from it.
"""
