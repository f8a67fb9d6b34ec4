"""The model on Spark (local mode): the same links as on DuckDB, and no plaintext ID number or
phone in Spark's scratch directories afterwards. Slow (a JVM): `make test-spark`."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import pytest

from wangge.linkage.engine import model, noise
from wangge.linkage.engine.address import KnownPlaces

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spark")


@pytest.fixture(scope="module")
def spark(scratch: Path) -> Any:
    session = model.spark_session(str(scratch))
    yield session
    session.stop()


def _plaintext_in(directory: Path, needles: list[str]) -> list[str]:
    found = []
    for path in directory.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found


def test_spark_gives_the_same_links_as_duckdb(spark: Any, scratch: Path) -> None:
    known = KnownPlaces(**noise.known_places())
    everyone = noise.make_people(260, seed=31)
    canonical = everyone[:220]
    rng = random.Random(32)
    rows = [
        noise.noisy_copy(p, rng) | {"unique_id": f"S{i}"}
        for i, p in enumerate(canonical[:40] + everyone[220:])
    ]
    source = model.people_table(rows, known=known)
    ledger = model.people_table(canonical, known=known)

    on_duckdb = model.link(source, ledger)
    on_spark = model.link(source, ledger, backend="spark", spark=spark)
    assert on_duckdb
    assert {(p.left_id, p.right_id) for p in on_spark} == {
        (p.left_id, p.right_id) for p in on_duckdb
    }
    for a, b in zip(on_duckdb, on_spark, strict=True):
        assert (a.left_id, a.right_id) == (b.left_id, b.right_id)
        assert b.probability == pytest.approx(a.probability, abs=1e-6)
        assert [(e.field, e.level) for e in a.evidence] == [(e.field, e.level) for e in b.evidence]

    duplicates = model.people_table(canonical[:60] + rows[:10], known=known)
    assert {
        (p.left_id, p.right_id) for p in model.dedupe(duplicates, backend="spark", spark=spark)
    } == {(p.left_id, p.right_id) for p in model.dedupe(duplicates)}

    # Nothing personal in plaintext in spark.local.dir, the warehouse or the checkpoints.
    needles = [p["id_number"] for p in canonical[:40]] + [
        p["phone"] for p in canonical[:40] if p["phone"]
    ]
    needles += [r["id_number"] for r in rows if r["id_number"] and r["id_number"].isascii()]
    assert _plaintext_in(scratch, needles) == []
