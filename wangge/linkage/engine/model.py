"""The linkage model: Splink's Fellegi–Sunter scoring of department rows against the ledger
(`link`) and of the ledger against itself (`dedupe`), on DuckDB in memory or on Spark.

Records are Arrow tables built by `people_table` / `organisations_table`: the raw fields
normalised, plus derived columns that turn every fuzzy notion into an exact one where it can
(a name's pinyin, its pinyin with the given name's syllables sorted, a date's digits sorted,
the phone's last four, the parsed address's keys), so that the comparisons are the same SQL on
both backends. Parameters: u by random sampling and m by EM when the data is large enough to
estimate them, otherwise (a handful of rows) fixed priors; the same seeds and the same steps on
both backends. The evidence of a scored pair is, per comparison, the level's slug and its match
weight (Splink's waterfall) — never a value.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa

from wangge.linkage.engine import normalise
from wangge.linkage.engine.address import (
    KnownPlaces,
    address_key,
    community_key,
    house_key,
    parse_address,
    without_admin,
)

# What Splink is asked to do: a list against the ledger, or one table against itself.
LinkType = Literal["link_only", "dedupe_only"]

PEOPLE_FIELDS = ("unique_id", "name", "gender", "birth_date", "id_number", "phone", "address")
ORGANISATION_FIELDS = (
    "unique_id",
    "name",
    "credit_code",
    "legal_representative",
    "phone",
    "address",
)
SEED = 20240611
# Below these sizes the data cannot estimate m and u: the priors stay.
MIN_ROWS_TO_ESTIMATE = 1_000


@dataclass(frozen=True)
class Evidence:
    field: str
    level: str
    weight: float


@dataclass(frozen=True)
class ScoredPair:
    left_id: str
    right_id: str
    probability: float
    weight: float
    evidence: tuple[Evidence, ...]


# Each comparison: (field, [(level slug, SQL condition or None for the else level, m, u)]).
# The null level comes first and carries no weight; the priors (m, u) are typical of
# Chinese administrative lists: u from the frequency of chance agreement, m from how often
# a true match agrees.
Level = tuple[str, str | None, float, float]


def _null(*columns: str) -> str:
    return " OR ".join(f"{c}_l IS NULL OR {c}_r IS NULL" for c in columns)


def _eq(column: str) -> str:
    return f"{column}_l = {column}_r"


def _permuted(column: str, sorted_column: str) -> str:
    return f"{_eq(sorted_column)} AND levenshtein({column}_l, {column}_r) <= 2"


PEOPLE_COMPARISONS: tuple[tuple[str, list[Level]], ...] = (
    (
        "name",
        [
            ("null", _null("name"), 0.0, 0.0),
            ("exact", _eq("name"), 0.80, 0.0005),
            ("pinyin", _eq("name_py"), 0.10, 0.0002),
            ("transposed", _eq("name_py_sorted"), 0.03, 0.0001),
            ("similar", "jaro_winkler:name_py:0.88", 0.05, 0.01),
            ("else", None, 0.02, 0.9892),
        ],
    ),
    (
        "birth_date",
        [
            ("null", _null("birth_date"), 0.0, 0.0),
            ("exact", _eq("birth_date"), 0.93, 0.00004),
            ("transposed", _eq("birth_sorted"), 0.03, 0.0003),
            ("year", _eq("birth_year"), 0.02, 0.011),
            ("else", None, 0.02, 0.98866),
        ],
    ),
    (
        "gender",
        [
            ("null", _null("gender"), 0.0, 0.0),
            ("exact", _eq("gender"), 0.995, 0.5),
            ("else", None, 0.005, 0.5),
        ],
    ),
    (
        "phone",
        [
            ("null", _null("phone"), 0.0, 0.0),
            ("exact", _eq("phone"), 0.85, 0.00001),
            ("tail4", _eq("phone_tail4"), 0.03, 0.0001),
            ("else", None, 0.12, 0.99989),
        ],
    ),
    (
        "id_number",
        [
            ("null", _null("id_number"), 0.0, 0.0),
            ("exact", _eq("id_number"), 0.85, 0.000001),
            # Two valid numbers never differ in one digit nor by a swap (the check digit):
            # a one-character difference or a permutation is a mistyping.
            ("typo", "levenshtein:id_number:1", 0.08, 0.000002),
            ("transposed", _permuted("id_number", "id_sorted"), 0.05, 0.000002),
            ("else", None, 0.02, 0.999995),
        ],
    ),
    (
        "address",
        [
            ("null", _null("address_key"), 0.0, 0.0),
            ("exact", _eq("address_key"), 0.55, 0.0005),
            ("house", f"{_eq('house_key')} AND house_key_l <> ''", 0.2, 0.0005),
            ("community", f"{_eq('community_key')} AND community_key_l <> ''", 0.15, 0.06),
            ("else", None, 0.1, 0.939),
        ],
    ),
)
ORGANISATION_COMPARISONS: tuple[tuple[str, list[Level]], ...] = (
    (
        "credit_code",
        [
            ("null", _null("credit_code"), 0.0, 0.0),
            ("exact", _eq("credit_code"), 0.9, 0.000001),
            ("typo", "levenshtein:credit_code:1", 0.05, 0.000002),
            ("transposed", _permuted("credit_code", "credit_sorted"), 0.03, 0.000002),
            ("else", None, 0.02, 0.999995),
        ],
    ),
    (
        "name",
        [
            ("null", _null("name"), 0.0, 0.0),
            ("exact", _eq("name"), 0.6, 0.0001),
            ("core", _eq("name_core"), 0.3, 0.0005),
            ("similar", "jaro_winkler:name_core:0.9", 0.07, 0.005),
            ("else", None, 0.03, 0.9944),
        ],
    ),
    (
        "legal_representative",
        [
            ("null", _null("legal_representative"), 0.0, 0.0),
            ("exact", _eq("legal_representative"), 0.8, 0.0005),
            ("pinyin", _eq("legal_representative_py"), 0.12, 0.0002),
            ("else", None, 0.08, 0.9993),
        ],
    ),
    PEOPLE_COMPARISONS[3],
    PEOPLE_COMPARISONS[5],
)


def _levels() -> dict[str, tuple[str, ...]]:
    """Every level's slug per field, people's and organisations' together (an organisation's
    name has its own levels), from the null level to the else level."""
    levels: dict[str, list[str]] = {}
    for field, field_levels in PEOPLE_COMPARISONS + ORGANISATION_COMPARISONS:
        slugs = levels.setdefault(field, [])
        for slug, *_rest in field_levels:
            if slug not in slugs:
                slugs.append(slug)
    return {field: (*[s for s in slugs if s != "else"], "else") for field, slugs in levels.items()}


LEVELS: dict[str, tuple[str, ...]] = _levels()

# Candidate pairs: any one rule that agrees brings a pair to be scored. Together they keep the
# pairs to a few per row even against a million canonical records; each one catches true pairs
# that no other does (measured on the benchmark's noise: benchmarks/linkage.py).
PEOPLE_BLOCKING = (
    "l.id_number = r.id_number",
    "l.phone = r.phone",
    "l.name_py_sorted = r.name_py_sorted AND l.birth_year = r.birth_year",
    "l.surname_py = r.surname_py AND l.birth_date = r.birth_date",
    "l.name_py_sorted = r.name_py_sorted AND l.house_key = r.house_key",
    "l.name_py_sorted = r.name_py_sorted AND l.id_tail4 = r.id_tail4",
    "l.given_py = r.given_py AND l.birth_date = r.birth_date",
    "l.house_key = r.house_key AND l.id_tail4 = r.id_tail4",
)
ORGANISATION_BLOCKING = (
    "l.credit_code = r.credit_code",
    "l.name_core = r.name_core",
    "l.phone = r.phone",
    "l.legal_representative_py = r.legal_representative_py AND l.house_key = r.house_key",
)
# The EM passes: each estimates m for the comparisons its rule leaves free.
PEOPLE_TRAINING = (
    "l.id_number = r.id_number",
    "l.name_py = r.name_py AND l.birth_date = r.birth_date",
)
ORGANISATION_TRAINING = ("l.credit_code = r.credit_code", "l.name_core = r.name_core")


def prior_weight(probability: float) -> float:
    """The match weight of the prior (the probability that two random records match): a
    pair's weight is it plus the weights of its evidence."""
    return math.log2(probability / (1 - probability))


# --- tables -------------------------------------------------------------------------------


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _name_columns(raw: str) -> tuple[str, str, str, str]:
    """(normalised name, pinyin, pinyin with the given name's syllables sorted, surname)."""
    return _normalised_name_columns(normalise.name(raw))


def _names_columns(values: list[Any]) -> list[tuple[str, str, str, str]]:
    """`_name_columns` of a column: once per distinct name, the normalising in one batch."""
    distinct = list(dict.fromkeys(values))
    normalised = normalise.names([_text(v) for v in distinct])
    cache = {raw: _normalised_name_columns(n) for raw, n in zip(distinct, normalised, strict=True)}
    return [cache[v] for v in values]


def _normalised_name_columns(value: str) -> tuple[str, str, str, str]:
    if not value:
        return ("", "", "", "")
    syllables = normalise.pinyin(value).split(" ")
    surname_len = 2 if len(syllables) >= 4 else 1
    head, given = syllables[:surname_len], sorted(syllables[surname_len:])
    return (value, " ".join(syllables), " ".join(head + given), " ".join(head))


class _Addresses:
    """Parses cached per distinct text: lists repeat their addresses."""

    def __init__(self, known: KnownPlaces | None):
        self.known = known
        self.cache: dict[str, tuple[str, str, str]] = {}

    def __call__(self, text: str | None) -> tuple[str | None, str | None, str | None]:
        if not text:
            return (None, None, None)
        # The keys start at the community: the text folded and without its leading province,
        # city and district gives the same keys, and lists differ most in exactly those.
        core = without_admin(text)
        keys = self.cache.get(core)
        if keys is None:
            parse = parse_address(core, known=self.known)
            keys = (address_key(parse), house_key(parse), community_key(parse))
            self.cache[core] = keys
        return (keys[0] or None, keys[1] or None, keys[2] or None)


def _none(value: str | None) -> str | None:
    return value or None


def _column(rows: Sequence[Mapping[str, Any]], field: str) -> list[Any]:
    return [row.get(field) for row in rows]


def _mapped(values: list[Any], function: Any) -> list[Any]:
    """`function` applied once per distinct value: lists repeat their names, dates, genders
    and addresses."""
    cache = {value: function(value) for value in dict.fromkeys(values)}
    return [cache[value] for value in values]


def _strings(values: list[Any]) -> pa.Array:
    return pa.array([None if v is None else str(v) for v in values], pa.string())


def _cleaned(array: pa.Array, drop: str) -> pa.Array:
    """Full-width folded, `drop` (a regular expression) removed, upper case; '' → null."""
    import pyarrow.compute as pc

    value = pc.utf8_upper(pc.replace_substring_regex(pc.utf8_normalize(array, "NFKC"), drop, ""))
    return pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value)


def _id_numbers(raw: list[Any]) -> tuple[list[str | None], list[bool]]:
    """The normalised ID numbers and whether each one's check digit and birth date hold."""
    import numpy as np

    values: list[str | None] = _cleaned(_strings(raw), r"[\s\-_]+").to_pylist()
    for i, value in enumerate(values):
        if value is not None and len(value) == 15:
            values[i] = normalise.id_number(value)
    n = len(values)
    valid = np.zeros(n, dtype=bool)
    shaped = [i for i, v in enumerate(values) if v is not None and len(v) == 18 and v.isascii()]
    if shaped:
        codes = np.frombuffer(
            "".join(str(values[i]) for i in shaped).encode("ascii"),
            dtype=np.uint8,
        ).reshape(-1, 18)
        digits = codes[:, :17].astype(np.int64) - 48
        ok: Any = ((digits >= 0) & (digits <= 9)).all(axis=1)
        check = np.frombuffer(normalise.ID_CHECK.encode(), dtype=np.uint8)
        weights = np.array(normalise.ID_WEIGHTS, dtype=np.int64)
        expected = check[(np.where(ok[:, None], digits, 0) @ weights) % 11]
        valid[np.array(shaped)] = ok & (expected == codes[:, 17])
    checked: list[bool] = valid.tolist()
    births = _mapped(
        [v[6:14] if v is not None and checked[i] else None for i, v in enumerate(values)],
        lambda d: normalise.birth_date(d) if d else None,
    )
    flags = [checked[i] and births[i] is not None for i in range(n)]
    return values, flags


def _sorted_characters(values: list[str | None]) -> list[str | None]:
    return [None if v is None else "".join(sorted(v)) for v in values]


def _phones(raw: list[Any]) -> pa.Array:
    import pyarrow.compute as pc

    value = _cleaned(_strings(raw), r"\D+")
    value = pc.replace_substring_regex(value, "^0086", "")
    prefixed = pc.and_(pc.equal(pc.utf8_length(value), 13), pc.starts_with(value, "86"))
    value = pc.if_else(prefixed, pc.utf8_slice_codeunits(value, 2), value)
    return pc.if_else(pc.equal(value, ""), pa.scalar(None, pa.string()), value)


def _tail4(array: pa.Array, min_length: int) -> pa.Array:
    import pyarrow.compute as pc

    long_enough = pc.greater_equal(pc.utf8_length(array), min_length)
    return pc.if_else(long_enough, pc.utf8_slice_codeunits(array, -4), pa.scalar(None, pa.string()))


def people_table(
    rows: Iterable[Mapping[str, Any]], *, known: KnownPlaces | None = None
) -> pa.Table:
    """The people's fields normalised and the derived columns the model compares. Column by
    column: the text work once per distinct value, the ID numbers' check digits in numpy."""
    import pyarrow.compute as pc

    rows = rows if isinstance(rows, Sequence) else list(rows)
    names = _names_columns(_column(rows, "name"))
    ids, valid = _id_numbers(_column(rows, "id_number"))
    births = _mapped(_column(rows, "birth_date"), normalise.birth_date)
    genders = _mapped(_column(rows, "gender"), normalise.gender)
    from_id = [
        (i[6:14], i[16]) if ok and i is not None else None for i, ok in zip(ids, valid, strict=True)
    ]
    for index, derived in enumerate(from_id):
        if derived is not None:
            if births[index] is None:
                births[index] = f"{derived[0][:4]}-{derived[0][4:6]}-{derived[0][6:]}"
            if genders[index] is None:
                genders[index] = "男" if int(derived[1]) % 2 else "女"
    addresses = _Addresses(known)
    address_text = [_text(v) for v in _column(rows, "address")]
    keys = _mapped(address_text, addresses)
    phone = _phones(_column(rows, "phone"))
    id_array = pa.array(ids, pa.string())
    birth_array = pa.array(births, pa.string())

    def part(i: int) -> pa.Array:
        return pa.array([n[i] or None for n in names], pa.string())

    name_py = part(1)
    surname = part(3)
    given = pa.array([n[1][len(n[3]) + 1 :] or None if n[1] else None for n in names], pa.string())
    return pa.table(
        {
            "unique_id": pa.array([str(r["unique_id"]) for r in rows], pa.string()),
            "name": part(0),
            "name_py": name_py,
            "name_py_sorted": part(2),
            "surname_py": surname,
            "given_py": given,
            "gender": pa.array(genders, pa.string()),
            "birth_date": birth_array,
            "birth_sorted": pa.array(
                _mapped(births, lambda b: "".join(sorted(b.replace("-", ""))) if b else None),
                pa.string(),
            ),
            "birth_year": pc.utf8_slice_codeunits(birth_array, 0, 4),
            "id_number": id_array,
            "id_tail4": _tail4(id_array, 15),
            "id_sorted": pa.array(_sorted_characters(ids), pa.string()),
            "phone": phone,
            "phone_tail4": _tail4(phone, 7),
            "address": pa.array(address_text, pa.string()),
            "address_key": pa.array([k[0] for k in keys], pa.string()),
            "house_key": pa.array([k[1] for k in keys], pa.string()),
            "community_key": pa.array([k[2] for k in keys], pa.string()),
        }
    )


_ORG_NOISE = (
    "江门市江海区",
    "江门市",
    "江海区",
    "广东省",
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "经营部",
    "商行",
    "厂",
)


def organisation_core(name: str) -> str:
    """An organisation's name without its place and legal form (江门市江海区华富五金有限公司 →
    华富五金): the part two lists agree on."""
    core = name
    for word in _ORG_NOISE:
        core = core.replace(word, "")
    return core or name


def organisations_table(
    rows: Iterable[Mapping[str, Any]], *, known: KnownPlaces | None = None
) -> pa.Table:
    columns: dict[str, list[Any]] = {
        key: []
        for key in (
            "unique_id",
            "name",
            "name_core",
            "credit_code",
            "credit_sorted",
            "legal_representative",
            "legal_representative_py",
            "phone",
            "phone_tail4",
            "address",
            "address_key",
            "house_key",
            "community_key",
        )
    }
    addresses = _Addresses(known)
    for row in rows:
        name = normalise.name(_text(row.get("name")))
        person, person_py, _sorted, _surname = _name_columns(
            _text(row.get("legal_representative")) or ""
        )
        phone = normalise.phone(_text(row.get("phone")))
        address = _text(row.get("address"))
        akey, hkey, ckey = addresses(address)
        columns["unique_id"].append(str(row["unique_id"]))
        columns["name"].append(_none(name))
        columns["name_core"].append(_none(organisation_core(name)) if name else None)
        code = normalise.credit_code(_text(row.get("credit_code")))
        columns["credit_code"].append(code)
        columns["credit_sorted"].append("".join(sorted(code)) if code else None)
        columns["legal_representative"].append(_none(person))
        columns["legal_representative_py"].append(_none(person_py))
        columns["phone"].append(phone)
        columns["phone_tail4"].append(phone[-4:] if phone and len(phone) >= 7 else None)
        columns["address"].append(address)
        columns["address_key"].append(akey)
        columns["house_key"].append(hkey)
        columns["community_key"].append(ckey)
    return pa.table({key: pa.array(values, pa.string()) for key, values in columns.items()})


# --- the model ----------------------------------------------------------------------------


def _comparisons(kind: str) -> tuple[tuple[str, list[Level]], ...]:
    if kind == "people":
        return PEOPLE_COMPARISONS
    if kind == "organisations":
        return ORGANISATION_COMPARISONS
    raise ValueError(f"unknown kind {kind!r}: people or organisations")


def settings(kind: str, *, link_type: LinkType, prior: float) -> Any:
    """The Splink settings: the comparisons with their priors, the blocking rules."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl
    from splink import SettingsCreator

    comparisons: list[Any] = []
    for field, levels in _comparisons(kind):
        creators: list[Any] = []
        for slug, condition, m, u in levels:
            if slug == "null":
                level: Any = cll.CustomLevel(condition or "", label_for_charts=slug)
                level = level.configure(is_null_level=True)
            elif condition is None:
                level = cll.ElseLevel()
            elif condition.startswith("jaro_winkler:"):
                _f, column, threshold = condition.split(":")
                level = cll.JaroWinklerLevel(column, float(threshold))
            elif condition.startswith("levenshtein:"):
                _f, column, threshold = condition.split(":")
                level = cll.LevenshteinLevel(column, int(threshold))
            else:
                level = cll.CustomLevel(condition, label_for_charts=slug)
            if slug != "null":
                level = level.configure(m_probability=m, u_probability=u, label_for_charts=slug)
                if field == "name" and slug == "exact":
                    level = level.configure(tf_adjustment_column="name", tf_adjustment_weight=1.0)
            creators.append(level)
        comparisons.append(
            cl.CustomComparison(comparison_levels=creators, output_column_name=field)
        )
    blocking = PEOPLE_BLOCKING if kind == "people" else ORGANISATION_BLOCKING
    return SettingsCreator(
        link_type=link_type,
        comparisons=comparisons,
        blocking_rules_to_generate_predictions=[_rule(sql) for sql in blocking],
        probability_two_random_records_match=prior,
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=True,  # the gamma columns: the level of each comparison
        max_iterations=10,
        em_convergence=0.001,
    )


def _rule(sql: str) -> Any:
    from splink.blocking_rule_library import CustomRule

    return CustomRule(sql)


def duckdb_connection() -> Any:
    """An in-memory DuckDB that cannot spill to disk nor touch files: no temp directory, no
    external access (so no plaintext personal value reaches the disk)."""
    import duckdb

    connection = duckdb.connect(":memory:", config={"preserve_insertion_order": False})
    connection.execute("SET temp_directory = ''")
    connection.execute(f"SET threads = {max(1, min(4, os.cpu_count() or 1))}")
    connection.execute("SET enable_external_access = false")
    connection.execute("SET lock_configuration = true")
    return connection


SPARK_CONF = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    # Shuffle, spill and cached blocks that reach spark.local.dir are encrypted.
    "spark.io.encryption.enabled": "true",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.driver.memory": "3g",
    "spark.sql.ansi.enabled": "false",
}


def spark_session(local_dir: str, *, master: str | None = None) -> Any:
    """A Spark session whose scratch (spark.local.dir, the warehouse, checkpoints) is under
    `local_dir`, a directory the caller owns and removes. A session made elsewhere needs the
    same: Splink's similarity jar (`spark.jars`) and `spark.io.encryption.enabled`."""
    from pyspark.sql import SparkSession

    logging.getLogger("py4j").setLevel(logging.ERROR)
    builder = SparkSession.builder.master(
        master or os.environ.get("WANGGE_LINKAGE_SPARK", "local[2]")
    ).appName("wangge-linkage")
    from splink.backends.spark import similarity_jar_location

    conf = dict(SPARK_CONF)
    # Splink's string-similarity functions (jaro_winkler …) as Scala UDFs.
    conf["spark.jars"] = similarity_jar_location()
    conf["spark.local.dir"] = os.path.join(local_dir, "local")
    conf["spark.sql.warehouse.dir"] = os.path.join(local_dir, "warehouse")
    conf["spark.driver.extraJavaOptions"] = f"-Djava.io.tmpdir={os.path.join(local_dir, 'tmp')}"
    for sub in ("local", "warehouse", "tmp"):
        os.makedirs(os.path.join(local_dir, sub), exist_ok=True)
    for key, value in conf.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir(os.path.join(local_dir, "checkpoints"))
    return session


def _db_api(backend: str, spark: Any, spark_dir: str | None) -> tuple[Any, Any]:
    """The Splink database API and what to close afterwards."""
    if backend == "duckdb":
        from splink import DuckDBAPI

        connection = duckdb_connection()
        return DuckDBAPI(connection), ("duckdb", connection)
    if backend == "spark":
        from splink import SparkAPI

        owned: tuple[Any, ...] = ("spark",)
        if spark is None:
            from pyspark.sql import SparkSession

            spark = SparkSession.getActiveSession()  # a session already running is used
        if spark is None:
            # A session of this run only, stopped afterwards; its scratch under the caller's
            # directory, or a fresh one removed afterwards.
            directory = spark_dir or tempfile.mkdtemp(prefix="wangge-spark-")
            spark = spark_session(directory)
            owned = ("spark", spark, None if spark_dir else directory)
        # persist: intermediate tables stay in Spark's memory (spilled blocks encrypted), not
        # written as parquet checkpoints in plaintext (Splink's default outside Databricks).
        api = SparkAPI(spark_session=spark, break_lineage_method="persist")
        return api, owned
    raise ValueError(f"unknown backend {backend!r}: duckdb or spark")


def _close(handle: tuple[Any, ...]) -> None:
    if handle[0] == "duckdb":
        handle[1].close()
    elif len(handle) > 1:
        handle[1].stop()
        if handle[2]:
            shutil.rmtree(handle[2], ignore_errors=True)


def link(
    source: pa.Table,
    canonical: pa.Table,
    *,
    kind: str = "people",
    backend: str = "duckdb",
    spark: Any = None,
    min_probability: float = 0.05,
    spark_dir: str | None = None,
) -> list[ScoredPair]:
    """Every scored (source row, canonical record) pair with probability ≥ min_probability.

    `backend="spark"` runs on `spark` (a SparkSession made by `spark_session`), else on the
    active session, else on a local one of this run only, its scratch in `spark_dir` (a
    directory the caller controls) or in a fresh temporary directory removed afterwards."""
    if source.num_rows == 0 or canonical.num_rows == 0:
        return []
    prior = min(0.5, 1.0 / canonical.num_rows)
    return _run(
        [source, canonical], kind, backend, spark, "link_only", prior, min_probability, spark_dir
    )


def dedupe(
    records: pa.Table,
    *,
    kind: str = "people",
    backend: str = "duckdb",
    spark: Any = None,
    min_probability: float = 0.05,
    spark_dir: str | None = None,
) -> list[ScoredPair]:
    """Scored pairs within one table, left_id < right_id."""
    if records.num_rows < 2:
        return []
    prior = min(0.5, 1.0 / records.num_rows)
    return _run([records], kind, backend, spark, "dedupe_only", prior, min_probability, spark_dir)


def _run(
    tables: Sequence[pa.Table],
    kind: str,
    backend: str,
    spark: Any,
    link_type: LinkType,
    prior: float,
    min_probability: float,
    spark_dir: str | None = None,
) -> list[ScoredPair]:
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.ERROR)
    api, handle = _db_api(backend, spark, spark_dir)
    try:
        names = ["source", "canonical"][: len(tables)]
        run = uuid.uuid4().hex[:12]
        frames = [
            api.register(table, dataset_display_name=name, table_name=f"wangge_{name}_{run}")
            for table, name in zip(tables, names, strict=True)
        ]
        linker = Linker(
            frames if len(frames) > 1 else frames[0],
            settings(kind, link_type=link_type, prior=prior),
            log_level=None,
            # The settings are fixed and tested; validating them (sqlglot over every
            # condition) would cost each run half a second.
            validate_settings=False,
        )
        if min(t.num_rows for t in tables) >= MIN_ROWS_TO_ESTIMATE:
            _train(linker, kind)
        predictions = linker.inference.predict(
            threshold_match_probability=min_probability, warning_mode="never"
        )
        result = predictions.as_pyarrow_table()
        # Spark's session outlives the run: its cached tables and views go now.
        linker.table_management.delete_tables_created_by_splink_from_db()
        predictions.drop_table_from_database_and_remove_from_cache()
        for frame in frames:
            frame.drop_table_from_database_and_remove_from_cache(force_non_splink_table=True)
        return _pairs(result, kind, link_type)
    finally:
        _close(handle)


def _train(linker: Any, kind: str) -> None:
    """u by random sampling, then m by EM on each training rule; the priors where a level is
    too rare in the data to estimate (Splink keeps the configured value)."""
    # One chunk of a million random pairs: the rare levels (a mistyped ID) never reach an
    # early-stopping count, so probing in chunks would only cost time; they keep their priors.
    # Training needs only the comparison vectors: the compared values stay out of its tables
    # (a million sampled pairs with every value would fill Spark's heap).
    linker._settings_obj._retain_matching_columns = False
    linker.training.estimate_u_using_random_sampling(
        max_pairs=1e6, seed=SEED, num_chunks=1, min_count_per_level=None
    )
    rules = PEOPLE_TRAINING if kind == "people" else ORGANISATION_TRAINING
    from splink.internals.exceptions import EMTrainingException

    for sql in rules:
        # Splink takes the rule's own comparisons out of the model for the session and puts
        # them back when it ends; a session that fails would leave them out.
        saved = linker._settings_obj.core_model_settings.copy()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                _rule(sql), estimate_without_term_frequencies=True
            )
        except EMTrainingException:
            # No pair agrees on this rule (a ledger's ID numbers are unique: deduplicating it,
            # no two share one): the comparisons it would train keep their priors.
            linker._settings_obj.core_model_settings = saved
    linker._settings_obj._retain_matching_columns = True


def _pairs(result: pa.Table, kind: str, link_type: LinkType) -> list[ScoredPair]:
    comparisons = _comparisons(kind)
    fields = [field for field, _levels in comparisons]
    slugs = {}
    for field, levels in comparisons:
        count = len(levels) - 1  # the null level is gamma -1, the others count down to 0
        slugs[field] = {-1: "null"} | {
            count - 1 - i: slug for i, (slug, *_rest) in enumerate(levels[1:])
        }
    columns = result.column_names
    tf = "mw_tf_adj_name" in columns
    wanted = ["unique_id_l", "unique_id_r", "match_probability"]
    wanted += ["source_dataset_l"] if link_type == "link_only" else []
    wanted += ["match_weight", *(f"gamma_{f}" for f in fields), *(f"mw_{f}" for f in fields)]
    data = result.select(wanted + (["mw_tf_adj_name"] if tf else [])).to_pydict()
    gammas = [data[f"gamma_{f}"] for f in fields]
    weights = [data[f"mw_{f}"] for f in fields]
    tf_weights = data["mw_tf_adj_name"] if tf else None
    name_index = fields.index("name") if "name" in fields else -1
    # Most evidence repeats (a level's weight is the same for every pair but the name's
    # term-frequency part): one object per distinct (field, level, weight).
    made: dict[tuple[int, int, float], Evidence] = {}
    pairs = []
    for i in range(result.num_rows):
        evidence = []
        for j, field in enumerate(fields):
            weight = weights[j][i] or 0.0
            if j == name_index and tf_weights is not None:
                weight += tf_weights[i] or 0.0
            key = (j, gammas[j][i], round(float(weight), 4))
            item = made.get(key)
            if item is None:
                item = made[key] = Evidence(field, slugs[field][key[1]], key[2])
            evidence.append(item)
        left, right = str(data["unique_id_l"][i]), str(data["unique_id_r"][i])
        swap = data["source_dataset_l"][i] != "source" if link_type == "link_only" else left > right
        if swap:
            left, right = right, left
        pairs.append(
            ScoredPair(
                left,
                right,
                float(data["match_probability"][i]),
                round(float(data["match_weight"][i]), 4),
                tuple(evidence),
            )
        )
    pairs.sort(key=lambda p: (p.left_id, -p.probability, p.right_id))
    return pairs
