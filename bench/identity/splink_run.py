"""Splink on one benchmark data set, as its documentation shows it: DuckDB backend, no labels,
u-probabilities from random pairs, m-probabilities by expectation maximisation on blocked
pairs, predictions clustered at a match probability. Runs in the benchmark's own
environment (build/bench-venv), never in Vista's.

    bench-venv/bin/python splink_run.py SPEC.json

SPEC: {"input": CSV with unique_id, source, source_id and the compared columns,
"out": links CSV to write (source, source_id, customer_id), "kind": "people" (the
generator's columns) or "febrl", "identifier": bool, "threshold": float}. Prints one JSON
line: {"seconds": wall time from reading the CSV to the written clusters, "pairs": predicted
pairs at the threshold}.
"""

from __future__ import annotations

import csv
import json
import sys
import time

import duckdb
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def people_model(identifier: bool) -> tuple[list, list, list, list]:
    """Comparisons, prediction blocking, deterministic rules and EM blocking for the
    generator's columns (first_name, last_name, birth_date, email, phone, street, city,
    postal_code)."""
    comparisons = [
        cl.NameComparison("first_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("last_name").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "birth_date",
            input_is_string=True,
            datetime_format="%Y-%m-%d",
            invalid_dates_as_null=True,
        ),
        cl.ExactMatch("email").configure(term_frequency_adjustments=True),
        cl.ExactMatch("phone").configure(term_frequency_adjustments=True),
        cl.ExactMatch("landline").configure(term_frequency_adjustments=True),
        cl.LevenshteinAtThresholds("street", [2]),
        cl.ExactMatch("city").configure(term_frequency_adjustments=True),
        cl.ExactMatch("postal_code").configure(term_frequency_adjustments=True),
    ]
    blocking = [
        block_on("first_name", "last_name"),
        block_on("email"),
        block_on("phone"),
        block_on("last_name", "birth_date"),
        block_on("first_name", "postal_code"),
    ]
    deterministic = [
        block_on("email"),
        block_on("first_name", "last_name", "birth_date"),
    ]
    em = [block_on("first_name", "last_name"), block_on("email"), block_on("postal_code")]
    return comparisons, blocking, deterministic, em


def febrl_model(identifier: bool) -> tuple[list, list, list, list]:
    """The FEBRL examples' model (splink docs, febrl3 and febrl4), over the columns Vista's
    mapping gives it: names, birth date, street (address_1), suburb, postcode, and the
    social security number only when `identifier`."""
    comparisons = [
        cl.NameComparison("given_name").configure(term_frequency_adjustments=True),
        cl.NameComparison("surname").configure(term_frequency_adjustments=True),
        cl.DateOfBirthComparison(
            "date_of_birth",
            input_is_string=True,
            datetime_format="%Y%m%d",
            invalid_dates_as_null=True,
        ),
        cl.LevenshteinAtThresholds("address_1", [2]),
        cl.ExactMatch("suburb").configure(term_frequency_adjustments=True),
        cl.DamerauLevenshteinAtThresholds("postcode", [1, 2]).configure(
            term_frequency_adjustments=True
        ),
    ]
    blocking = [
        block_on("given_name", "surname"),
        "l.given_name = r.surname and l.surname = r.given_name",
        block_on("date_of_birth"),
        block_on("suburb", "address_1"),
        block_on("postcode"),
    ]
    deterministic = [block_on("given_name", "surname", "date_of_birth")]
    if identifier:
        comparisons.append(cl.DamerauLevenshteinAtThresholds("soc_sec_id", [1, 2]))
        blocking.insert(0, block_on("soc_sec_id"))
        deterministic.insert(0, block_on("soc_sec_id"))
    em = [block_on("date_of_birth"), block_on("postcode")]
    return comparisons, blocking, deterministic, em


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    started = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    table = con.read_csv(spec["input"], all_varchar=True, header=True)
    model = people_model if spec["kind"] == "people" else febrl_model
    comparisons, blocking, deterministic, em = model(spec["identifier"])
    settings = SettingsCreator(
        unique_id_column_name="unique_id",
        link_type="dedupe_only",
        blocking_rules_to_generate_predictions=blocking,
        comparisons=comparisons,
    )
    db_api = DuckDBAPI(connection=con)
    linker = Linker(db_api.register(table), settings)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    linker.training.estimate_u_using_random_sampling(max_pairs=1e6, seed=1)
    for rule in em:
        linker.training.estimate_parameters_using_expectation_maximisation(
            rule, estimate_without_term_frequencies=True
        )
    threshold = float(spec.get("threshold", 0.9))
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=threshold
    )
    rows = clusters.as_duckdbpyrelation().select("unique_id, cluster_id").fetchall()
    predicted = predictions.as_duckdbpyrelation().count("*").fetchall()
    seconds = time.perf_counter() - started
    cluster_of = dict(rows)
    with (
        open(spec["input"], newline="", encoding="utf-8") as src,
        open(spec["out"], "w", newline="", encoding="utf-8") as out,
    ):
        w = csv.writer(out)
        w.writerow(("source", "source_id", "customer_id"))
        for row in csv.DictReader(src):
            w.writerow((row["source"], row["source_id"], cluster_of.get(row["unique_id"], "")))
    print(json.dumps({"seconds": seconds, "pairs": predicted[0][0] if predicted else 0}))


if __name__ == "__main__":
    main()
