"""Import files that are not clean UTF-8: another encoding (`--encoding`, or the mapping's),
a stray byte that is not text, a JSON escape of a lone surrogate, a quote left open. Each
bad row is skipped with the line it starts on and a reason that says what to do; nothing
undecodable reaches the store; the readers and the worker processes agree."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from backends import record_fields
from backends.base import InvalidInput
from backends.identity.mapping import load_mapping
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

ITALIAN = [
    ("1", "Nicolò", "Ferrà", "Forlì"),
    ("2", "Anna", "Rossi", "Roma"),
    ("3", "Zoë", "Müller", "Bolzano"),
]


def _stored(db: Path, source: str) -> dict[str, dict[str, str]]:
    conn = sqlite3.connect(db)
    try:
        return {
            sid: record_fields.loads(fields, keys, sid)
            for sid, fields, keys in conn.execute(
                "SELECT r.source_id, r.fields, s.keys FROM source_records r "
                "LEFT JOIN record_shapes s ON s.id = r.shape WHERE r.source = ?",
                (source,),
            )
        }
    finally:
        conn.close()


def _import(
    tmp_path: Path, name: str, data: bytes, **options: object
) -> tuple[object, list[tuple[int, str]]]:
    f = tmp_path / name
    f.write_bytes(data)
    seen: list[tuple[int, str]] = []
    store = Store(tmp_path / "v.db", create=True)
    try:
        report = run_import(
            store,
            f,
            ImportOptions(**options),  # type: ignore[arg-type]
            on_bad=lambda line, why: seen.append((line, why)),
        )
    finally:
        store.close()
    return report, seen


def _csv(rows: list[tuple[str, ...]]) -> str:
    return "id,first_name,last_name,city\n" + "".join(",".join(r) + "\n" for r in rows)


@pytest.mark.parametrize("encoding", ["cp1252", "latin-1", "utf-16"])
def test_a_file_in_another_encoding_imports_with_encoding(tmp_path: Path, encoding: str) -> None:
    data = _csv(ITALIAN).encode(encoding)
    report, seen = _import(tmp_path, "crm.csv", data, source="crm", encoding=encoding)
    assert seen == [] and report.created == 3  # type: ignore[attr-defined]
    stored = _stored(tmp_path / "v.db", "crm")
    assert stored["1"]["first_name"] == "Nicolò" and stored["3"]["last_name"] == "Müller"


def test_the_mapping_names_the_encoding_and_the_option_wins(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text('encoding = "cp1252"\n', "utf-8")
    mapping = load_mapping(tmp_path / "m.toml")
    assert mapping.encoding == "cp1252"
    data = _csv(ITALIAN).encode("cp1252")
    _report, seen = _import(tmp_path, "crm.csv", data, source="crm", mapping=mapping)
    assert seen == [] and _stored(tmp_path / "v.db", "crm")["1"]["city"] == "Forlì"
    # told UTF-8 on the command line, the same file's accented rows are not text
    report, seen = _import(
        tmp_path, "crm.csv", data, source="crm2", mapping=mapping, encoding="utf-8"
    )
    assert [line for line, _ in seen] == [2, 4] and report.created == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize("workers", [0, 2])
def test_a_cp1252_file_read_as_utf8_skips_its_rows_with_a_hint(
    tmp_path: Path, workers: int
) -> None:
    data = _csv(ITALIAN).encode("cp1252")
    report, seen = _import(tmp_path, "crm.csv", data, source="crm", workers=workers)
    assert report.created == 1 and report.skipped == 2  # type: ignore[attr-defined]
    assert [line for line, _ in seen] == [2, 4]
    assert "not UTF-8 text" in seen[0][1] and "--encoding" in seen[0][1]


def test_a_header_that_is_not_text_stops_the_import(tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="line 1 .*not UTF-8 text"):
        _import(tmp_path, "crm.csv", b"id,pr\xe9nom\n1,Anne\n", source="crm")


ROWS = [
    {"id": str(i), "first_name": f"Name{i}", "last_name": "Rossi", "email": f"n{i}@libero.it"}
    for i in range(1, 6)
]


def _file(fmt: str, bad: bytes) -> bytes:
    """Five rows in `fmt`, the third's last name replaced by `bad` (bytes as written)."""
    out = []
    for row in ROWS:
        text = json.dumps(row) if fmt != "csv" else ",".join(row.values())
        if row["id"] == "3":
            text = text.replace("Rossi", "\x00")
        out.append(text.encode("utf-8").replace(b"\x00", bad))
    if fmt == "csv":
        return b"id,first_name,last_name,email\n" + b"".join(r + b"\n" for r in out)
    if fmt == "jsonl":
        return b"".join(r + b"\n" for r in out)
    return b"[\n" + b",\n".join(out) + b"\n]\n"


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_a_stray_byte_skips_only_its_row(tmp_path: Path, fmt: str, workers: int) -> None:
    report, seen = _import(
        tmp_path, f"crm.{fmt}", _file(fmt, b"Ro\xffssi"), source="crm", workers=workers
    )
    assert report.created == 4 and report.skipped == 1  # type: ignore[attr-defined]
    assert seen and seen[0][0] == (4 if fmt == "csv" else 3 if fmt == "jsonl" else 4)
    assert "not UTF-8 text" in seen[0][1]
    assert sorted(_stored(tmp_path / "v.db", "crm")) == ["1", "2", "4", "5"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_strict_stops_at_the_stray_byte_with_nothing_written(tmp_path: Path, fmt: str) -> None:
    with pytest.raises(InvalidInput, match="not UTF-8 text"):
        _import(tmp_path, f"crm.{fmt}", _file(fmt, b"Ro\xffssi"), source="crm", strict=True)
    assert _stored(tmp_path / "v.db", "crm") == {}


@pytest.mark.parametrize("workers", [0, 2])
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_an_escaped_lone_surrogate_skips_its_row_and_a_pair_is_text(
    tmp_path: Path, fmt: str, workers: int
) -> None:
    data = _file(fmt, b"Ro\\\\udcffssi").replace(b"Name5", b"Name5 \\\\ud83d\\\\ude00")
    data = data.replace(b"\\\\u", b"\\u")  # one backslash in the file: a JSON escape
    report, seen = _import(tmp_path, f"crm.{fmt}", data, source="crm", workers=workers)
    assert report.created == 4 and [why for _, why in seen] == [  # type: ignore[attr-defined]
        "a JSON escape of a lone UTF-16 surrogate (such as \\udcff), not text"
    ]
    assert _stored(tmp_path / "v.db", "crm")["5"]["first_name"] == "Name5 😀"


def test_an_open_quote_is_reported_where_the_row_starts(tmp_path: Path) -> None:
    data = b'id,first_name,email\n1,Anna,a@libero.it\n2,"Bo,b@libero.it\n3,Carla,c@libero.it\n'
    report, seen = _import(tmp_path, "crm.csv", data, source="crm")
    assert report.created == 1  # type: ignore[attr-defined]
    why = "expected 3 columns, found 2 (the row runs on to line 4: a quote left open?)"
    assert seen == [(3, why)]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"encoding": "klingon"}, "unknown encoding 'klingon'"),
        ({"encoding": "rot13"}, "unknown encoding 'rot13'"),
        ({"default_region": "ZZ"}, "unknown default region 'ZZ'"),
    ],
)
def test_unknown_encodings_and_regions_are_refused(
    tmp_path: Path, options: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        _import(tmp_path, "crm.csv", _csv(ITALIAN).encode(), source="crm", **options)
    assert _stored(tmp_path / "v.db", "crm") == {}


def test_the_cli_takes_encoding_and_refuses_bad_values(tmp_path: Path) -> None:
    f = tmp_path / "crm.csv"
    f.write_bytes(_csv(ITALIAN).encode("cp1252"))
    vista = [
        sys.executable,
        "-c",
        "from console.cli.app import main; main()",
        "--backend",
        f"sqlite:///{tmp_path / 'v.db'}",
    ]
    made = subprocess.run([*vista, "db", "init"], capture_output=True, text=True, check=False)
    assert made.returncode == 0, made.stderr
    ok = subprocess.run(
        [*vista, "import", str(f), "--source", "crm", "--encoding", "cp1252", "--json"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["created"] == 3
    for args, message in (
        (["--encoding", "klingon"], "unknown encoding 'klingon'"),
        (["--default-region", "ZZ"], "unknown default region 'ZZ'"),
    ):
        bad = subprocess.run(
            [*vista, "import", str(f), "--source", "x", *args],
            capture_output=True,
            text=True,
            check=False,
        )
        assert bad.returncode != 0 and message in bad.stderr
    assert set(_stored(tmp_path / "v.db", "crm")) == {"1", "2", "3"}
    assert _stored(tmp_path / "v.db", "x") == {}


def test_events_take_the_encoding_too(tmp_path: Path) -> None:
    _import(
        tmp_path,
        "crm.csv",
        b"id,first_name,last_name,email\n1,Anna,Rossi,anna@libero.it\n",
        source="crm",
    )
    events = (
        "id,at,kind,email,summary\n"
        "E1,2026-11-20T10:00:00Z,note,anna@libero.it,Già spedito a Forlì\n"
        "E2,2026-11-20T11:00:00Z,note,anna@libero.it,Reso\n"
    ).encode("cp1252")
    report, seen = _import(tmp_path, "ev.csv", events, source="desk", kind="events")
    assert report.created == 1 and [line for line, _ in seen] == [2]  # type: ignore[attr-defined]
    report, seen = _import(
        tmp_path, "ev.csv", events, source="desk", kind="events", encoding="cp1252"
    )
    assert seen == [] and report.created == 1  # type: ignore[attr-defined]
    conn = sqlite3.connect(tmp_path / "v.db")
    try:
        summaries = {s for (s,) in conn.execute("SELECT summary FROM events WHERE source = 'desk'")}
    finally:
        conn.close()
    assert summaries == {"Già spedito a Forlì", "Reso"}
