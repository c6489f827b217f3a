"""Worker processes hand the resolver more than features: the record's match keys, identifier
rows and blocking keys, and the golden profiles get features as stored JSON text. Each of
these must be exactly what the resolver and writer would compute themselves, or a big
import would resolve differently from a small one."""

from __future__ import annotations

import json
from pathlib import Path

from backends.identity.config import MatchConfig
from backends.identity.features import Features
from backends.identity.golden import compute_golden
from backends.identity.jsontext import dumps
from backends.identity.keys import identity_values, probe_keys
from backends.identity.mapping import load_mapping
from backends.identity.prepare import Plan, _unpack, prepare_rows
from backends.identity.readers import RawRows
from backends.sqlite.identity.writer import identity_rows
from bench.identity.generate import generate

NOW = 1_800_000_000


def _prepared(
    data: Path,
    name: str,
    source: str,
    fmt: str,
    mapping: Path | None = None,
    id_column: str | None = None,
) -> list:
    plan = Plan(source, load_mapping(mapping), id_column, "IT", NOW, MatchConfig())
    with open(data / name, "rb") as raw:
        rows = RawRows(raw, fmt)
        chunk = list(rows)
        out = [_unpack(parts) for parts in prepare_rows(plan, chunk, fmt, rows.header)]
    return [p for p in out if not isinstance(p, tuple)]


def test_keys_prepared_by_workers_match_the_resolvers_own(tmp_path: Path) -> None:
    generate(tmp_path, 600, seed=11)
    items = (
        _prepared(tmp_path, "crm.csv", "crm", "csv")
        + _prepared(tmp_path, "webshop.jsonl", "webshop", "jsonl", tmp_path / "webshop.toml")
        + _prepared(tmp_path, "helpdesk.json", "helpdesk", "json", id_column="ticket_customer_id")
    )
    assert len(items) > 500
    with_ids = 0
    for item in items:
        f = item.features
        assert item.blocks == f.block_keys()
        assert item.probe == probe_keys(f)
        assert item.idents == identity_values(f.source, item.source_id, f)
        rows = identity_rows(7, f.source, item.source_id, f)
        assert rows == [(7, kind, value, raw) for kind, value, raw in item.idents]
        with_ids += any(kind == "email" for kind, _v in item.probe)
    assert with_ids > 100  # the sample holds e-mails to match on


def test_golden_profiles_from_stored_json_equal_those_from_features(tmp_path: Path) -> None:
    generate(tmp_path, 300, seed=5)
    items = _prepared(tmp_path, "crm.csv", "crm", "csv")[:120]
    cfg = MatchConfig()
    # customers of three records each, with features as objects, lists and stored JSON text
    groups = [items[i : i + 3] for i in range(0, len(items), 3)]

    def jobs(form: str) -> list:
        out = []
        for cid, group in enumerate(groups, start=1):
            parts = []
            for n, item in enumerate(group):
                f = item.features
                value = {"object": f, "list": f.to_json(), "text": item.features_json}[form]
                parts.append((cid * 10 + n, "crm", item.source_id, item.at, value))
            out.append((cid, parts, None, ["A-1"]))
        return out

    expected = compute_golden(cfg, NOW, jobs("object"))
    assert compute_golden(cfg, NOW, jobs("list")) == expected
    assert compute_golden(cfg, NOW, jobs("text")) == expected
    assert all(
        json.loads(item.features_json) == json.loads(dumps(item.features.to_json()))
        for item in items
    )
    assert Features.from_json(json.loads(items[0].features_json)) == items[0].features
