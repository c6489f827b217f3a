"""`vista lookup`, `vista calls` and `vista kb` as a script uses them: JSON out, exit 1 with
one line on stderr for nobody found or bad input, nothing stored from a malformed import."""

from __future__ import annotations

import json
from pathlib import Path

from backends.sqlite.backend import SQLiteBackend
from tests.conftest import NOW
from tests.unit.test_cli import vista


def test_lookup_by_phone_as_typed_and_nobody(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    with SQLiteBackend(demo_db, clock=lambda: NOW) as backend:
        phone = backend.get_customer(6).phones[0]
    national = phone.removeprefix("+39")
    found = vista("--backend", url, "lookup", f"{national[:3]} {national[3:]}", "--json")
    assert found.returncode == 0, found.stderr
    answer = json.loads(found.stdout)
    assert answer["kind"] == "phone" and answer["value"] == phone
    assert [m["id"] for m in answer["matches"]] == [6]
    assert "facts" in answer["matches"][0] and "open_contacts" in answer["matches"][0]
    nobody = vista("--backend", url, "lookup", "+39 347 000 0999")
    assert nobody.returncode == 1 and "nobody matches" in nobody.stdout


def test_calls_record_and_list(demo_db: Path) -> None:
    url = f"sqlite:///{demo_db}"
    rang = vista(
        "--backend",
        url,
        "calls",
        "record",
        "ringing",
        "347 000 0420",
        "--call-id",
        "C1",
        "--agent",
        "giulia",
        "--json",
    )
    assert rang.returncode == 0, rang.stderr
    call = json.loads(rang.stdout)
    assert call["new_caller"] and call["agent"] == "giulia"
    listed = vista("--backend", url, "calls", "list", str(call["contact_id"]), "--json")
    assert [c["call_id"] for c in json.loads(listed.stdout)] == ["C1"]
    bad = vista("--backend", url, "calls", "record", "ringing", "not a phone", "--call-id", "C2")
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "not a phone" in bad.stderr


def test_kb_import_is_all_or_nothing_and_search_finds_it(demo_db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{demo_db}"
    folder = tmp_path / "kb"
    folder.mkdir()
    (folder / "gift.en.md").write_text(
        "---\ntitle: Gift cards\nlanguage: en\nintents: [product_question]\n"
        "link: https://shop.example/gift\n---\nGift cards are valid for five years.\n",
        "utf-8",
    )
    (folder / "broken.md").write_text("no front matter here\n", "utf-8")
    before = json.loads(vista("--backend", url, "kb", "list", "--json").stdout)
    refused = vista("--backend", url, "kb", "import", str(folder))
    assert refused.returncode == 1 and "broken" in refused.stderr
    assert json.loads(vista("--backend", url, "kb", "list", "--json").stdout) == before
    (folder / "broken.md").unlink()
    done = vista("--backend", url, "kb", "import", str(folder), "--json")
    assert json.loads(done.stdout)["created"] == 1
    hits = json.loads(vista("--backend", url, "kb", "search", "gift years", "--json").stdout)
    assert hits[0]["slug"] == "gift"
    shown = json.loads(vista("--backend", url, "kb", "show", str(hits[0]["id"]), "--json").stdout)
    assert shown["body"] == "Gift cards are valid for five years."
