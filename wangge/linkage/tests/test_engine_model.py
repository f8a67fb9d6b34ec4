"""The linkage model on generated Jianghai people and organisations (no database)."""

from __future__ import annotations

import os
import random
import tempfile
from pathlib import Path
from typing import Any

import duckdb
import pytest

from wangge.linkage.engine import model, noise
from wangge.linkage.engine.address import KnownPlaces

KNOWN = KnownPlaces(**noise.known_places())


def best(pairs: list[model.ScoredPair]) -> dict[str, model.ScoredPair]:
    top: dict[str, model.ScoredPair] = {}
    for pair in pairs:
        if pair.left_id not in top or pair.probability > top[pair.left_id].probability:
            top[pair.left_id] = pair
    return top


@pytest.fixture(scope="module")
def world() -> dict[str, Any]:
    everyone = noise.make_people(340, seed=11)
    canonical, strangers = everyone[:300], everyone[300:]
    rng = random.Random(12)
    rows, truth = [], {}
    for i, person in enumerate(canonical[:80]):
        rows.append(noise.noisy_copy(person, rng) | {"unique_id": f"S{i}"})
        truth[f"S{i}"] = person["unique_id"]
    for i, person in enumerate(strangers):
        rows.append(noise.noisy_copy(person, rng) | {"unique_id": f"X{i}"})
    return {
        "canonical": canonical,
        "rows": rows,
        "truth": truth,
        "source": model.people_table(rows, known=KNOWN),
        "ledger": model.people_table(canonical, known=KNOWN),
    }


def test_people_table_normalises_and_derives() -> None:
    table = model.people_table(
        [
            {
                "unique_id": 7,
                "name": "汪曉明",
                "gender": None,
                "birth_date": None,
                "id_number": "４４０７０４８００１０１１２３",
                "phone": "+86 138 0013 8000",
                "address": "礼乐英南五坊3号之一",
            },
            {"unique_id": "8", "name": None},
        ],
        known=KNOWN,
    )
    assert set(model.PEOPLE_FIELDS) <= set(table.column_names)
    first = table.slice(0, 1).to_pylist()[0]
    assert first["unique_id"] == "7"
    assert first["name"] == "汪晓明"
    assert first["name_py"] == "wang xiao ming"
    assert first["id_number"] == "440704198001011230"  # legacy number made 18
    assert first["birth_date"] == "1980-01-01"  # from the ID
    assert first["gender"] == "男"
    assert first["phone"] == "13800138000"
    assert first["phone_tail4"] == "8000"
    assert first["address_key"] == "英南|五坊|3|1||||"
    second = table.slice(1, 1).to_pylist()[0]
    assert second["name"] is None
    assert second["id_number"] is None
    assert second["address_key"] is None


def test_levels_cover_every_comparison() -> None:
    assert set(model.LEVELS) == {
        "name",
        "birth_date",
        "gender",
        "phone",
        "id_number",
        "address",
        "credit_code",
        "legal_representative",
    }
    assert model.LEVELS["name"] == (
        "null",
        "exact",
        "pinyin",
        "transposed",
        "similar",
        "core",
        "else",
    )
    assert all(levels[0] == "null" and levels[-1] == "else" for levels in model.LEVELS.values())


def test_link_finds_the_noisy_copies_and_not_the_strangers(world: dict[str, Any]) -> None:
    pairs = model.link(world["source"], world["ledger"])
    top = best(pairs)
    truth = world["truth"]
    found = [s for s, t in truth.items() if s in top and top[s].right_id == t]
    assert len(found) >= 0.97 * len(truth)
    linked = [s for s in found if top[s].probability >= 0.9]
    assert len(linked) >= 0.9 * len(truth)
    strangers = [p for s, p in top.items() if s.startswith("X") and p.probability >= 0.5]
    assert strangers == []
    for pair in pairs:
        assert pair.probability >= 0.05
        assert [e.field for e in pair.evidence] == [
            "name",
            "birth_date",
            "gender",
            "phone",
            "id_number",
            "address",
        ]
        assert all(e.level in model.LEVELS[e.field] for e in pair.evidence)
    assert len({p.left_id for p in pairs}) <= len(world["rows"])


def test_evidence_adds_up_to_the_weight(world: dict[str, Any]) -> None:
    pair = best(model.link(world["source"], world["ledger"]))["S0"]
    prior = model.prior_weight(1 / world["ledger"].num_rows)
    assert sum(e.weight for e in pair.evidence) + prior == pytest.approx(pair.weight, abs=1e-3)


def test_homophones_and_traditional_characters_are_pinyin_matches() -> None:
    ledger = model.people_table(
        [
            {"unique_id": "A", "name": "王晓明", "birth_date": "1980-01-01", "gender": "男"},
            {"unique_id": "B", "name": "李国强", "birth_date": "1975-06-02", "gender": "男"},
        ]
    )
    rows = model.people_table(
        [
            {"unique_id": "1", "name": "汪小明", "birth_date": "1980/1/1"},
            {"unique_id": "2", "name": "王曉明", "birth_date": "19800101"},
            {"unique_id": "3", "name": "王明晓", "birth_date": "1980年1月1日"},
        ]
    )
    top = best(model.link(rows, ledger))
    assert {s: p.right_id for s, p in top.items()} == {"1": "A", "2": "A", "3": "A"}
    assert top["1"].evidence[0].level == "pinyin"
    assert top["2"].evidence[0].level == "exact"
    assert top["3"].evidence[0].level == "transposed"


def test_link_is_deterministic(world: dict[str, Any]) -> None:
    assert model.link(world["source"], world["ledger"]) == model.link(
        world["source"], world["ledger"]
    )


def test_dedupe_finds_the_duplicates(world: dict[str, Any]) -> None:
    canonical = world["canonical"][:150]
    rng = random.Random(3)
    copies = [
        noise.noisy_copy(p, rng) | {"unique_id": f"D{i}"} for i, p in enumerate(canonical[:20])
    ]
    table = model.people_table(canonical + copies, known=KNOWN)
    pairs = [p for p in model.dedupe(table) if p.probability >= 0.5]
    assert all(p.left_id < p.right_id for p in pairs)
    expected = {tuple(sorted((f"D{i}", p["unique_id"]))) for i, p in enumerate(canonical[:20])}
    found = {(p.left_id, p.right_id) for p in pairs}
    assert len(found & expected) >= 18
    assert len(found - expected) <= 1


def test_organisations_link_by_code_and_by_name() -> None:
    orgs = noise.make_organisations(120, seed=5)
    rng = random.Random(6)
    rows = [
        noise.noisy_organisation(o, rng) | {"unique_id": f"S{i}"} for i, o in enumerate(orgs[:30])
    ]
    rows[0]["credit_code"] = None
    top = best(
        model.link(
            model.organisations_table(rows, known=KNOWN),
            model.organisations_table(orgs, known=KNOWN),
            kind="organisations",
        )
    )
    right = [
        s
        for s, p in top.items()
        if p.probability >= 0.5 and p.right_id == orgs[int(s[1:])]["unique_id"]
    ]
    assert len(right) >= 28
    assert "S0" in right
    assert [e.field for e in top["S0"].evidence] == [
        "credit_code",
        "name",
        "legal_representative",
        "phone",
        "address",
    ]


def test_an_empty_side_gives_nothing(world: dict[str, Any]) -> None:
    empty = world["source"].slice(0, 0)
    assert model.link(empty, world["ledger"]) == []
    assert model.dedupe(empty) == []


def test_duckdb_writes_nothing_to_disk(
    world: dict[str, Any], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work, scratch = tmp_path / "cwd", tmp_path / "tmp"
    work.mkdir()
    scratch.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("TMPDIR", str(scratch))
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    assert model.link(world["source"], world["ledger"])
    assert model.dedupe(world["ledger"]) is not None
    assert list(work.iterdir()) == []
    assert list(scratch.iterdir()) == []

    connection = model.duckdb_connection()
    setting = connection.execute("SELECT current_setting('temp_directory')").fetchone()
    assert setting == ("",)
    with pytest.raises(duckdb.Error):
        connection.execute("COPY (SELECT 1) TO 'leak.csv'")
    with pytest.raises(duckdb.Error):
        connection.execute("SET temp_directory = '/tmp'")
    connection.close()
    assert not os.path.exists(work / "leak.csv")


def test_training_on_enough_rows() -> None:
    everyone = noise.make_people(model.MIN_ROWS_TO_ESTIMATE + 200, seed=21)
    rng = random.Random(22)
    ledger = everyone[: model.MIN_ROWS_TO_ESTIMATE]
    rows = [
        noise.noisy_copy(p, rng) | {"unique_id": f"S{i}"}
        for i, p in enumerate(ledger + everyone[model.MIN_ROWS_TO_ESTIMATE :])
    ]
    top = best(
        model.link(model.people_table(rows, known=KNOWN), model.people_table(ledger, known=KNOWN))
    )
    linked = {s for s, p in top.items() if p.probability >= 0.9}
    right = {
        s
        for s in linked
        if int(s[1:]) < len(ledger) and top[s].right_id == ledger[int(s[1:])]["unique_id"]
    }
    assert len(right) >= 0.99 * len(ledger)
    assert len(linked - right) <= 0.005 * len(ledger)
