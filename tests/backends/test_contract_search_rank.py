"""Search ranking: a better match first, and among equal matches the fuller profile, so a
sparse duplicate holding only a name does not come first."""

from __future__ import annotations

from pathlib import Path

from backends.base import Backend
from backends.sqlite.identity.importer import ImportOptions, run_import
from backends.sqlite.store import Store

PEOPLE = (
    "id,first_name,last_name,email,phone\n"
    "RANK-SPARSE,Zelinda,Quarantotti,,\n"
    "RANK-FULL,Zelinda,Quarantotti,zq1970@libero.it,3471110001\n"
    "RANK-PREFIX,Zelindo,Quarantottini,zelindo.q@libero.it,3471110002\n"
)


def _import(demo_db: Path, tmp_path: Path) -> None:
    source = tmp_path / "people.csv"
    source.write_text(PEOPLE, "utf-8")
    store = Store(demo_db)
    try:
        report = run_import(store, source, ImportOptions(source="crm"), actor="root")
    finally:
        store.close()
    assert report.created == 3


def test_the_fuller_profile_ranks_above_a_sparse_one_of_the_same_name(
    backend: Backend, demo_db: Path, tmp_path: Path
) -> None:
    _import(demo_db, tmp_path)
    hits = backend.search_customers("quarantotti")
    same_name = [h for h in hits if h.name == "Zelinda Quarantotti"]
    assert len(same_name) == 2
    assert same_name[0].email == "zq1970@libero.it"  # the full profile first
    assert same_name[1].email == "" and same_name[1].phone == ""


def test_a_whole_word_match_ranks_above_a_prefix_match_with_more_data(
    backend: Backend, demo_db: Path, tmp_path: Path
) -> None:
    _import(demo_db, tmp_path)
    names = [h.name for h in backend.search_customers("quarantotti")]
    assert names[:3] == ["Zelinda Quarantotti", "Zelinda Quarantotti", "Zelindo Quarantottini"]
