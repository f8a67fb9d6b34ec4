"""Linkage: department rows against the canonical ledger, with realistic Chinese noise.

One run: generates N canonical people (default 1,000,000) and M department rows (default
100,000: 85% noisy copies of canonical people, 15% people not in the ledger), then links the
rows three ways and prints precision, recall, F1 against the generator's truth and the time,
side by side:

  (a) wangge's engine (`wangge.linkage.engine`: normalising, address parsing, pinyin, the
      Splink model on DuckDB in memory, trained on the data);
  (b) a plain Splink run: the fields folded and trimmed, birth dates made ISO, Splink's
      library comparisons (exact ID number, Jaro-Winkler name, exact birth date, gender, phone,
      Jaro-Winkler address), three blocking rules, u by sampling and m by EM — no pinyin, no
      traditional characters, no parsed address;
  (c) blocking + rapidfuzz: the same normalised fields as (a), candidates from the same kind of
      blocking keys in Python dicts, a weighted rapidfuzz score.

A source row counts as linked to its best-scoring canonical record when that score passes the
method's threshold (probability 0.5 for the Splink runs). Then the Spark backend on a smaller
world (default 50,000 × 5,000; a JVM on two shared cores takes minutes for the full one):
its time beside DuckDB's on the same data and their agreement. Peak memory is getrusage's
maxrss (this process; the Spark JVM's separately).

Run:  .venv/bin/python benchmarks/linkage.py [--canonical N] [--rows N]
                                             [--spark-canonical N] [--spark-rows N] [--no-spark]
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import unicodedata
from collections import defaultdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wangge.linkage.engine import model, noise, normalise
from wangge.linkage.engine.address import KnownPlaces

SEED = 2024
IN_LEDGER = 0.85


def world(
    canonical: int, rows: int, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], dict[str, str]]:
    """Canonical people, department rows and the truth (row id → canonical id)."""
    strangers = rows - int(rows * IN_LEDGER)
    everyone = noise.make_people(canonical + strangers, seed)
    ledger, outside = everyone[:canonical], everyone[canonical:]
    rng = random.Random(seed + 1)
    picked = rng.sample(range(canonical), rows - strangers)
    people = [ledger[i] for i in picked] + outside
    rng.shuffle(people)
    source, truth = [], {}
    for i, person in enumerate(people):
        row_id = f"R{i:07d}"
        source.append(noise.noisy_copy(person, rng) | {"unique_id": row_id})
        if person["unique_id"].startswith("P") and int(person["unique_id"][1:]) <= canonical:
            truth[row_id] = person["unique_id"]
    return ledger, source, truth


def best_links(pairs: list[tuple[str, str, float]], threshold: float) -> dict[str, str]:
    top: dict[str, tuple[float, str]] = {}
    for left, right, score in pairs:
        if score >= threshold and (left not in top or score > top[left][0]):
            top[left] = (score, right)
    return {left: right for left, (_score, right) in top.items()}


def score(links: dict[str, str], truth: dict[str, str]) -> tuple[float, float, float]:
    right = sum(1 for s, c in links.items() if truth.get(s) == c)
    precision = right / len(links) if links else 0.0
    recall = right / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def peak_mb(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


# --- (a) wangge ---------------------------------------------------------------------------


def run_wangge(
    ledger: list[dict[str, Any]],
    source: list[dict[str, Any]],
    backend: str = "duckdb",
    spark: Any = None,
) -> tuple[dict[str, str], float, float]:
    known = KnownPlaces(**noise.known_places())
    start = time.perf_counter()
    left = model.people_table(source, known=known)
    right = model.people_table(ledger, known=known)
    prepared = time.perf_counter() - start
    pairs = model.link(left, right, backend=backend, spark=spark)
    elapsed = time.perf_counter() - start
    return (
        best_links([(p.left_id, p.right_id, p.probability) for p in pairs], 0.5),
        elapsed,
        prepared,
    )


# --- (b) plain Splink ---------------------------------------------------------------------


def _plain(text: Any) -> str | None:
    if text is None:
        return None
    value = unicodedata.normalize("NFKC", str(text)).strip().upper()
    return value or None


def plain_table(rows: list[dict[str, Any]]) -> Any:
    import pyarrow as pa

    columns: dict[str, list[Any]] = {
        k: []
        for k in ("unique_id", "name", "gender", "birth_date", "id_number", "phone", "address")
    }
    for row in rows:
        columns["unique_id"].append(row["unique_id"])
        columns["name"].append(_plain(row.get("name")))
        columns["gender"].append(_plain(row.get("gender")))
        columns["birth_date"].append(normalise.birth_date(row.get("birth_date")))
        columns["id_number"].append(_plain(row.get("id_number")))
        columns["phone"].append(_plain(row.get("phone")))
        columns["address"].append(_plain(row.get("address")))
    return pa.table({k: pa.array(v, pa.string()) for k, v in columns.items()})


def run_plain_splink(
    ledger: list[dict[str, Any]], source: list[dict[str, Any]]
) -> tuple[dict[str, str], float]:
    import splink.comparison_library as cl
    from splink import DuckDBAPI, Linker, SettingsCreator, block_on

    start = time.perf_counter()
    api = DuckDBAPI(model.duckdb_connection())
    frames = [
        api.register(plain_table(source), dataset_display_name="source"),
        api.register(plain_table(ledger), dataset_display_name="canonical"),
    ]
    settings = SettingsCreator(
        link_type="link_only",
        comparisons=[
            cl.JaroWinklerAtThresholds("name"),
            cl.ExactMatch("birth_date"),
            cl.ExactMatch("gender"),
            cl.ExactMatch("phone"),
            cl.ExactMatch("id_number"),
            cl.JaroWinklerAtThresholds("address"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("id_number"),
            block_on("name", "birth_date"),
            block_on("phone"),
        ],
        probability_two_random_records_match=1 / len(ledger),
    )
    linker = Linker(frames, settings, log_level=None)
    linker.training.estimate_u_using_random_sampling(
        max_pairs=1e6, seed=SEED, num_chunks=1, min_count_per_level=None
    )
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("id_number"))
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("name", "birth_date")
    )
    result = linker.inference.predict(
        threshold_match_probability=0.05, warning_mode="never"
    ).as_pyarrow_table()
    data = result.select(
        ["unique_id_l", "unique_id_r", "source_dataset_l", "match_probability"]
    ).to_pydict()
    pairs = []
    for left, right, dataset, probability in zip(
        data["unique_id_l"],
        data["unique_id_r"],
        data["source_dataset_l"],
        data["match_probability"],
        strict=True,
    ):
        pairs.append(
            (left, right, probability) if dataset == "source" else (right, left, probability)
        )
    return best_links(pairs, 0.5), time.perf_counter() - start


# --- (c) blocking + rapidfuzz -------------------------------------------------------------


def run_rapidfuzz(
    ledger: list[dict[str, Any]], source: list[dict[str, Any]]
) -> tuple[dict[str, str], float]:
    from rapidfuzz.distance import JaroWinkler, Levenshtein

    known = KnownPlaces(**noise.known_places())
    start = time.perf_counter()
    fields = (
        "unique_id",
        "name_py",
        "birth_date",
        "birth_year",
        "surname_py",
        "id_number",
        "phone",
        "gender",
        "address_key",
    )
    left = model.people_table(source, known=known).select(fields).to_pydict()
    right = model.people_table(ledger, known=known).select(fields).to_pydict()
    keys = (("id_number",), ("phone",), ("name_py", "birth_year"), ("surname_py", "birth_date"))
    index: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for key in keys:
        for i, values in enumerate(zip(*(right[k] for k in key), strict=True)):
            if all(values):
                index[(key, *values)].append(i)
    scored = (
        ("name_py", 3.0, JaroWinkler.normalized_similarity),
        ("birth_date", 2.0, None),
        ("id_number", 3.0, Levenshtein.normalized_similarity),
        ("phone", 1.5, None),
        ("gender", 0.5, None),
        ("address_key", 1.0, Levenshtein.normalized_similarity),
    )
    links = {}
    for row in range(len(left["unique_id"])):
        candidates: set[int] = set()
        for key in keys:
            values = tuple(left[k][row] for k in key)
            if all(values):
                candidates.update(index.get((key, *values), ()))
        best, best_score = None, 0.0
        for i in candidates:
            total = weight = 0.0
            for field, share, similarity in scored:
                a, b = left[field][row], right[field][i]
                if a is None or b is None:
                    continue
                weight += share
                total += share * (similarity(a, b) if similarity else float(a == b))
            value = total / weight if weight else 0.0
            if value > best_score:
                best, best_score = i, value
        if best is not None and best_score >= 0.85:
            links[left["unique_id"][row]] = right["unique_id"][best]
    return links, time.perf_counter() - start


# --- Spark --------------------------------------------------------------------------------


def run_spark(canonical: int, rows: int) -> None:
    ledger, source, truth = world(canonical, rows, SEED + 7)
    on_duckdb, duckdb_time, _ = run_wangge(ledger, source)
    with tempfile.TemporaryDirectory(prefix="wangge-bench-spark-") as scratch:
        start = time.perf_counter()
        spark = model.spark_session(scratch)
        startup = time.perf_counter() - start
        on_spark, spark_time, _ = run_wangge(ledger, source, backend="spark", spark=spark)
        jvm_peak = _jvm_peak_mb(spark)
        spark.stop()
    same = sum(
        1 for row in source if on_duckdb.get(row["unique_id"]) == on_spark.get(row["unique_id"])
    )
    p, r, f = score(on_spark, truth)
    print(
        f"\nSpark (local[2]) on a smaller world, {canonical:,} canonical × {rows:,} rows "
        "(the full size takes a JVM on two shared cores too long for one run):"
    )
    print(
        f"  DuckDB {duckdb_time:7.1f} s   Spark {spark_time:7.1f} s (+ {startup:.1f} s session start)"
    )
    print(
        f"  agreement: {same:,} of {rows:,} rows get the same decision ({same / rows:.4%}); Spark P {p:.4f} R {r:.4f} F1 {f:.4f}"
    )
    print(f"  peak memory of the Spark JVM (its VmHWM): {jvm_peak:,.0f} MB")


def _jvm_peak_mb(spark: Any) -> float:
    pid = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--canonical", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--spark-canonical", type=int, default=50_000)
    parser.add_argument("--spark-rows", type=int, default=5_000)
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()

    start = time.perf_counter()
    ledger, source, truth = world(args.canonical, args.rows, SEED)
    print(
        f"{args.canonical:,} canonical people, {args.rows:,} department rows "
        f"({len(truth):,} noisy copies of ledger people, {args.rows - len(truth):,} not in the ledger); "
        f"generated in {time.perf_counter() - start:.1f} s"
    )
    results = []
    links, elapsed, prepared = run_wangge(ledger, source)
    wangge_peak = peak_mb()
    results.append((f"wangge (tables {prepared:.1f} s + Splink)", links, elapsed))
    links, elapsed = run_plain_splink(ledger, source)
    results.append(("plain Splink (no pinyin, no address parse)", links, elapsed))
    links, elapsed = run_rapidfuzz(ledger, source)
    results.append(("blocking + rapidfuzz", links, elapsed))

    print(f"\n{'method':46} {'precision':>9} {'recall':>8} {'F1':>8} {'time':>9}")
    for name, links, elapsed in results:
        p, r, f = score(links, truth)
        print(f"{name:46} {p:9.4f} {r:8.4f} {f:8.4f} {elapsed:8.1f}s")
    print(
        f"\npeak memory (maxrss): {wangge_peak:,.0f} MB after generation + wangge; {peak_mb():,.0f} MB after all three"
    )
    if not args.no_spark:
        run_spark(args.spark_canonical, args.spark_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
