"""`vista identity model`, `vista identity train` and paged `vista identity suggestions`
from the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def vista(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", "from console.cli.app import main; main()", *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=60,
        env={"NO_COLOR": "1", "COLUMNS": "200", "PATH": "/usr/bin:/bin"},
    )


def test_model_train_and_paged_suggestions(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'v.db'}"
    assert vista("db", "init", "--db", str(tmp_path / "v.db")).returncode == 0
    home = {"street": "Via Roma 5", "city": "Milano", "postal_code": "20100"}
    rows = []
    for i, (first, last) in enumerate([("Marco", "Zanella"), ("Anna", "Verdi"), ("Luca", "Neri")]):
        street = {**home, "street": f"Via Roma {i + 5}"}
        rows += [
            {
                "id": f"{i}a",
                "first_name": first,
                "last_name": last,
                "birth_date": "1950-01-01",
                **street,
            },
            {
                "id": f"{i}b",
                "first_name": first,
                "last_name": last,
                "birth_date": "1985-02-02",
                **street,
            },
        ]
    crm = tmp_path / "crm.jsonl"
    crm.write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
    shop = tmp_path / "shop.jsonl"
    shop.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"w{i}",
                    "first_name": r["first_name"],
                    "last_name": r["last_name"],
                    **{k: r[k] for k in home},
                }
            )
            + "\n"
            for i, r in enumerate(rows[::2])
        ),
        "utf-8",
    )
    assert vista("--backend", url, "import", str(crm), "--source", "crm").returncode == 0
    assert vista("--backend", url, "import", str(shop), "--source", "webshop").returncode == 0

    shown = vista("--backend", url, "identity", "model")
    assert shown.returncode == 0, shown.stderr
    assert "version 0: the defaults" in shown.stdout and "birth_date" in shown.stdout
    model = json.loads(vista("--backend", url, "identity", "model", "--json").stdout)
    levels = {(lv["comparison"], lv["level"]): lv for lv in model["levels"]}
    assert levels[("email", "exact")]["weight"] > 0

    first = vista("--backend", url, "identity", "suggestions", "--limit", "2", "--json")
    page = [json.loads(line) for line in first.stdout.splitlines()]
    assert len(page) == 2
    text = vista("--backend", url, "identity", "suggestions", "--limit", "2")
    assert f"--after {page[-1]['cursor']}" in text.stdout
    rest = vista(
        "--backend", url, "identity", "suggestions", "--after", page[-1]["cursor"], "--json"
    )
    more = [json.loads(line) for line in rest.stdout.splitlines()]
    assert more and not {s["id"] for s in more} & {s["id"] for s in page}
    bad = vista("--backend", url, "identity", "suggestions", "--after", "x")
    assert bad.returncode == 1 and "cursor" in bad.stderr

    trained = vista("--backend", url, "identity", "train", "--json")
    assert trained.returncode == 0, trained.stderr
    assert json.loads(trained.stdout)["version"] == 1
    assert "version 1" in vista("--backend", url, "identity", "model").stdout
    refused = vista("--backend", url, "--read-only", "identity", "train")
    assert refused.returncode == 1
