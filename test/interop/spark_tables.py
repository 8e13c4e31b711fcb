"""Delta tables written by Spark (pyspark 4.0.1 + delta-spark 4.0.0), for lakestream to read back.

  spark_tables.py OUT_DIR

Writes, in one Spark session, OUT_DIR/<group>/<table>/delta (the table) and
OUT_DIR/<group>/<table>/expected/<latest|vN>/table_content (its rows as Spark reads them, Parquet
with microsecond timestamps), then OUT_DIR/DONE. Groups:
  dat  the 19 reader tables of Delta Acceptance Testing (delta-incubator/dat), built to its definitions
  ops  INSERT/UPDATE/DELETE/MERGE/OPTIMIZE/checkpoints, deletion vectors, column mapping (name, id),
       timestamp_ntz with microseconds, binary partition values with non-ASCII bytes
"""

import json
import os
import random
import shutil
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal

from delta import configure_spark_with_delta_pip
from delta.tables import DeltaTable
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

OUT = sys.argv[1]
TABLES = []


def table(group, name):
    def register(fn):
        TABLES.append((group, name, fn))
        return fn

    return register


class Case:
    def __init__(self, spark, group, name):
        self.spark = spark
        self.root = os.path.join(OUT, group, name)
        self.path = os.path.abspath(os.path.join(self.root, "delta"))

    def sql(self, text):
        return self.spark.sql(text.replace("{t}", f"delta.`{self.path}`"))

    def version(self):
        """The latest version: the newest commit in the log (no Spark job needed)."""
        log = os.listdir(os.path.join(self.path, "_delta_log"))
        return max(int(n[:20]) for n in log if len(n) == 25 and n.endswith(".json") and n[:20].isdigit())

    def expect(self, latest=False):
        """Saves the table's rows as Spark reads them now, and the version they are of."""
        df = self.spark.read.format("delta").load(self.path)
        v = self.version()
        where = os.path.join(self.root, "expected", "latest" if latest else f"v{v}")
        shutil.rmtree(where, ignore_errors=True)
        df.write.parquet(os.path.join(where, "table_content"))
        with open(os.path.join(where, "table_version_metadata.json"), "w") as f:
            json.dump({"version": v}, f)

    def write(self, rows, schema, mode="append", partition_by=(), **options):
        w = self.spark.createDataFrame(rows, schema=schema).repartition(1).write.format("delta").mode(mode)
        for k, v in options.items():
            w = w.option(k, v)
        if partition_by:
            w = w.partitionBy(*partition_by)
        w.save(self.path)

    def create(self, schema, properties=None, partition_by=()):
        b = DeltaTable.create(self.spark).location(self.path).addColumns(schema)
        for k, v in (properties or {}).items():
            b = b.property(k, v)
        if partition_by:
            b = b.partitionedBy(*partition_by)
        return b.execute()


# --- Delta Acceptance Testing: the reader tables, as its generated_tables.py defines them ---------

LETTER_NUMBER_FLOAT = ["letter", "number", "a_float"]


def sample(spark, seed=42, n=5):
    """DAT's sample rows: a letter (or null), an int and a first-of-month date, from a seeded RNG."""
    random.seed(seed)
    rows = [
        (
            random.choice(["a", "b", "c", None]),
            random.randint(0, 1000),
            date(random.randint(1970, 2020), random.randint(1, 12), 1),
        )
        for _ in range(n)
    ]
    return spark.createDataFrame(rows, schema=["letter", "int", "date"])


@table("dat", "basic_append")
def basic_append(c):
    c.write([("a", 1, 1.1), ("b", 2, 2.2), ("c", 3, 3.3)], LETTER_NUMBER_FLOAT)
    c.expect()
    c.write([("d", 4, 4.4), ("e", 5, 5.5)], LETTER_NUMBER_FLOAT)
    c.expect()


@table("dat", "basic_partitioned")
def basic_partitioned(c):
    c.write([("a", 1, 1.1), ("b", 2, 2.2), ("c", 3, 3.3)], LETTER_NUMBER_FLOAT, partition_by=["letter"])
    c.expect()
    c.write([("a", 4, 4.4), ("e", 5, 5.5), ("f", 6, 6.6)], LETTER_NUMBER_FLOAT, partition_by=["letter"])
    c.expect()


@table("dat", "partitioned_with_null")
def partitioned_with_null(c):
    c.write([("a", 1, 1.1), ("b", 2, 2.2), ("c", 3, 3.3)], LETTER_NUMBER_FLOAT, partition_by=["letter"])
    c.expect()
    c.write([("a", 4, 4.4), ("e", 5, 5.5), (None, 6, 6.6)], LETTER_NUMBER_FLOAT, partition_by=["letter"])
    c.expect()


@table("dat", "multi_partitioned")
def multi_partitioned(c):
    schema = T.StructType(
        [
            T.StructField("letter", T.StringType()),
            T.StructField("date", T.DateType()),
            T.StructField("data", T.BinaryType()),
            T.StructField("number", T.LongType()),
        ]
    )
    parts = ["letter", "date", "data"]
    d0 = date(1970, 1, 1)
    c.write(
        [("a", d0, b"hello", 1), ("b", d0, b"world", 2), ("b", date(1970, 1, 2), b"world", 3)],
        schema,
        partition_by=parts,
    )
    c.expect()
    c.write([("a", None, b"x", 4), (None, None, None, 5)], schema)
    c.expect()
    # escape characters in a partition value, and a binary value that is not ASCII
    c.write([("/%20%f", d0, b"hello", 6), ("b", d0, "😈".encode(), 7)], schema, mode="overwrite")
    c.expect()


@table("dat", "multi_partitioned_2")
def multi_partitioned_2(c):
    rows = [
        (True, datetime(1970, 1, 1), Decimal("200.00"), 1),
        (True, datetime(1970, 1, 1, 12, 30), Decimal("200.00"), 2),
        (False, datetime(1970, 1, 2, 8, 45), Decimal("12.00"), 3),
    ]
    c.write(rows, ["bool", "time", "amount", "int"], partition_by=["bool", "time", "amount"])


@table("dat", "with_schema_change")
def with_schema_change(c):
    c.write([("a", 1), ("b", 2), ("c", 3)], ["letter", "number"])
    c.write([(22, 33), (44, 55), (66, 77)], ["num1", "num2"], mode="overwrite", overwriteSchema=True)
    c.expect()


@table("dat", "all_primitive_types")
def all_primitive_types(c):
    schema = T.StructType(
        [
            T.StructField("utf8", T.StringType()),
            T.StructField("int64", T.LongType()),
            T.StructField("int32", T.IntegerType()),
            T.StructField("int16", T.ShortType()),
            T.StructField("int8", T.ByteType()),
            T.StructField("float32", T.FloatType()),
            T.StructField("float64", T.DoubleType()),
            T.StructField("bool", T.BooleanType()),
            T.StructField("binary", T.BinaryType()),
            T.StructField("decimal", T.DecimalType(5, 3)),
            T.StructField("date32", T.DateType()),
            T.StructField("timestamp", T.TimestampType()),
        ]
    )
    rows = [
        (
            str(i),
            i,
            i,
            i,
            i,
            float(i),
            float(i),
            i % 2 == 0,
            bytes(i),
            Decimal("10.000") + i,
            date(1970, 1, 1) + timedelta(days=i),
            datetime(1970, 1, 1) + timedelta(hours=i),
        )
        for i in range(5)
    ]
    c.write(rows, schema)


@table("dat", "nested_types")
def nested_types(c):
    schema = T.StructType(
        [
            T.StructField("pk", T.IntegerType()),
            T.StructField(
                "struct",
                T.StructType([T.StructField("float64", T.DoubleType()), T.StructField("bool", T.BooleanType())]),
            ),
            T.StructField("array", T.ArrayType(T.ShortType())),
            T.StructField("map", T.MapType(T.StringType(), T.IntegerType())),
        ]
    )
    rows = [
        (i, {"float64": float(i), "bool": i % 2 == 0}, list(range(i + 1)), {str(k): k for k in range(i)})
        for i in range(5)
    ]
    c.write(rows, schema)


def three_overwrites(c):
    for seed in range(3):
        sample(c.spark, seed=seed).repartition(1).write.format("delta").mode("overwrite").save(c.path)


@table("dat", "with_checkpoint")
def with_checkpoint(c):
    c.create(sample(c.spark).schema, {"delta.checkpointInterval": "2"})
    three_overwrites(c)


@table("dat", "no_replay")
def no_replay(c):
    c.create(sample(c.spark).schema, {"delta.checkpointInterval": "2"})
    three_overwrites(c)
    # DAT runs VACUUM with 0 hours retention: delete the files the latest version does not use, as it
    # would (Spark's VACUUM takes a minute on a small machine; what it leaves is the same)
    live = {os.path.basename(p) for p in c.spark.read.format("delta").load(c.path).inputFiles()}
    for name in os.listdir(c.path):
        if name.endswith(".parquet") and name not in live:
            os.remove(os.path.join(c.path, name))
    for v in (0, 1):
        os.remove(os.path.join(c.path, "_delta_log", f"{v:020d}.json"))


@table("dat", "stats_as_struct")
def stats_as_struct(c):
    props = {
        "delta.checkpointInterval": "2",
        "delta.checkpoint.writeStatsAsStruct": "true",
        "delta.checkpoint.writeStatsAsJson": "false",
    }
    c.create(sample(c.spark).schema, props)
    three_overwrites(c)


@table("dat", "no_stats")
def no_stats(c):
    props = {
        "delta.checkpointInterval": "2",
        "delta.checkpoint.writeStatsAsStruct": "false",
        "delta.checkpoint.writeStatsAsJson": "false",
        "delta.dataSkippingNumIndexedCols": "0",
    }
    c.create(sample(c.spark).schema, props)
    three_overwrites(c)


@table("dat", "deletion_vectors")
def deletion_vectors(c):
    t = c.create(sample(c.spark).schema, {"delta.enableDeletionVectors": "true"})
    sample(c.spark).repartition(1).write.format("delta").mode("append").save(c.path)
    t.delete(F.col("letter") == "a")


@table("dat", "check_constraints")
def check_constraints(c):
    c.create(sample(c.spark).schema, {"delta.enableDeletionVectors": "true"})
    sample(c.spark).repartition(1).write.format("delta").mode("append").save(c.path)
    c.sql("ALTER TABLE {t} ADD CONSTRAINT const1 CHECK (int > 0)")


@table("dat", "cdf")
def cdf(c):
    t = c.create(sample(c.spark).schema, {"delta.enableChangeDataFeed": "true"})
    sample(c.spark).repartition(1).write.format("delta").mode("append").save(c.path)
    t.update(condition=F.col("letter") == "c", set={"letter": F.lit("a")})
    t.delete(F.col("letter") == "a")


@table("dat", "generated_columns")
def generated_columns(c):
    df = sample(c.spark)
    (
        DeltaTable.create(c.spark)
        .location(c.path)
        .addColumns(df.schema)
        .addColumn("creation", T.DateType(), generatedAlwaysAs="CAST(now() AS DATE)")
        .execute()
    )
    df.repartition(1).write.format("delta").mode("append").save(c.path)


@table("dat", "column_mapping")
def column_mapping(c):
    df = sample(c.spark)
    c.create(df.schema, {"delta.columnMapping.mode": "name"})
    df.repartition(1).write.format("delta").mode("append").save(c.path)
    c.sql("ALTER TABLE {t} RENAME COLUMN int TO new_int")
    df.withColumnRenamed("int", "new_int").repartition(1).write.format("delta").mode("append").save(c.path)


@table("dat", "timestamp_ntz")
def timestamp_ntz(c):
    df = sample(c.spark)
    t = (
        DeltaTable.create(c.spark)
        .location(c.path)
        .addColumns(df.schema)
        .addColumn("timestampNTZ", T.TimestampNTZType())
        .execute()
    )
    t.upgradeTableProtocol(3, 7)
    # DAT writes now(); a fixed instant with microseconds keeps the table the same on every run
    ntz = F.lit("2024-05-17 10:21:33.491253").cast(T.TimestampNTZType())
    df.withColumn("timestampNTZ", ntz).repartition(1).write.format("delta").mode("append").save(c.path)


@table("dat", "iceberg_compat_v1")
def iceberg_compat_v1(c):
    df = sample(c.spark)
    t = c.create(df.schema, {"delta.enableIcebergCompatV1": "true"})
    t.upgradeTableProtocol(3, 7)
    df.repartition(1).write.format("delta").mode("append").save(c.path)


# --- lakestream's own cases: every operation, deletion vectors, column mapping, types --------------

OPS_SCHEMA = "id LONG, part STRING, name STRING, amount DOUBLE, ts TIMESTAMP"


def ops_rows(spark, start, n):
    rows = [
        (i, f"p{i % 3}", f"n{i}", i * 1.5, datetime(2024, 1, 1) + timedelta(seconds=i, microseconds=i * 7))
        for i in range(start, start + n)
    ]
    return spark.createDataFrame(rows, schema=OPS_SCHEMA)


def every_operation(c, props):
    """INSERT twice, UPDATE, DELETE, MERGE, OPTIMIZE, one more DELETE: expected rows after each."""
    spark = c.spark
    tblprops = ", ".join(f"'{k}' = '{v}'" for k, v in props.items())
    c.sql(f"CREATE TABLE {{t}} ({OPS_SCHEMA}) USING delta PARTITIONED BY (part) TBLPROPERTIES ({tblprops})")
    ops_rows(spark, 0, 300).repartition(2).write.format("delta").mode("append").save(c.path)
    c.expect()
    ops_rows(spark, 300, 300).createOrReplaceTempView("batch2")
    c.sql("INSERT INTO {t} SELECT * FROM batch2")
    c.expect()
    c.sql("UPDATE {t} SET amount = amount * 10, name = concat(name, '-u') WHERE id % 7 = 0")
    c.expect()
    c.sql("DELETE FROM {t} WHERE id % 5 = 0 OR id BETWEEN 100 AND 180")
    c.expect()
    src = [(i, f"p{i % 3}", f"m{i}", -1.0, datetime(2025, 1, 1)) for i in range(550, 650)]
    spark.createDataFrame(src, schema=OPS_SCHEMA).createOrReplaceTempView("changes")
    c.sql(
        "MERGE INTO {t} t USING changes s ON t.id = s.id "
        "WHEN MATCHED AND s.id % 2 = 0 THEN DELETE "
        "WHEN MATCHED THEN UPDATE SET t.name = s.name, t.amount = s.amount "
        "WHEN NOT MATCHED THEN INSERT *"
    )
    c.expect()
    c.sql("OPTIMIZE {t}")
    c.expect()
    c.sql("DELETE FROM {t} WHERE id % 11 = 3")
    c.expect()
    c.expect(latest=True)


@table("ops", "operations")
def operations(c):
    every_operation(c, {"delta.checkpointInterval": "3", "delta.enableDeletionVectors": "false"})


@table("ops", "operations_dv")
def operations_dv(c):
    every_operation(c, {"delta.checkpointInterval": "3", "delta.enableDeletionVectors": "true"})


@table("ops", "dv_large")
def dv_large(c):
    """One file of 20,000 rows and DVs dense enough for every roaring container kind."""
    c.sql("CREATE TABLE {t} (id LONG, v STRING) USING delta TBLPROPERTIES ('delta.enableDeletionVectors' = 'true')")
    c.spark.range(20000).selectExpr("id", "cast(id * 3 AS STRING) AS v").repartition(1).write.format(
        "delta"
    ).mode("append").save(c.path)
    c.sql("DELETE FROM {t} WHERE id BETWEEN 1000 AND 9000")  # a run
    c.expect()
    c.sql("DELETE FROM {t} WHERE id % 3 = 0 AND id < 1000")  # an array container
    c.sql("DELETE FROM {t} WHERE id >= 12000 AND id % 2 = 1")  # a bitmap container (> 4096 values)
    c.expect()
    c.expect(latest=True)


@table("ops", "dv_checkpoint")
def dv_checkpoint(c):
    """DVs in a checkpoint (and after it), with one DV file holding several files' vectors."""
    c.sql(
        "CREATE TABLE {t} (id LONG, part INT) USING delta PARTITIONED BY (part) "
        "TBLPROPERTIES ('delta.enableDeletionVectors' = 'true', 'delta.checkpointInterval' = '2')"
    )
    c.spark.range(1000).selectExpr("id", "cast(id % 4 AS INT) AS part").repartition(1).write.format(
        "delta"
    ).mode("append").save(c.path)
    c.sql("DELETE FROM {t} WHERE id % 10 = 1")
    c.sql("DELETE FROM {t} WHERE id % 10 = 2")
    c.expect()
    c.sql("DELETE FROM {t} WHERE id % 10 = 4")
    c.expect(latest=True)


NESTED_SCHEMA = (
    "id LONG, part STRING, info STRUCT<a: INT, b: STRING, inner: STRUCT<x: DOUBLE>>, "
    "tags ARRAY<STRUCT<k: STRING, n: INT>>, attrs MAP<STRING, STRUCT<q: INT>>"
)


def column_mapped(c, mode):
    c.sql(
        f"CREATE TABLE {{t}} ({NESTED_SCHEMA}) USING delta PARTITIONED BY (part) "
        f"TBLPROPERTIES ('delta.columnMapping.mode' = '{mode}', 'delta.enableDeletionVectors' = 'true')"
    )
    c.sql(
        "INSERT INTO {t} SELECT id, concat('p', id % 2), named_struct('a', cast(id AS INT), 'b', "
        "concat('b', id), 'inner', named_struct('x', id / 2)), array(named_struct('k', 'k', 'n', cast(id AS INT))), "
        "map('m', named_struct('q', cast(id AS INT))) FROM range(20)"
    )
    c.expect()
    c.sql("ALTER TABLE {t} RENAME COLUMN info TO details")
    c.sql("ALTER TABLE {t} RENAME COLUMN details.b TO bee")
    c.sql("ALTER TABLE {t} RENAME COLUMN part TO `the part`")
    c.sql("ALTER TABLE {t} ADD COLUMNS (extra STRING)")
    c.sql("ALTER TABLE {t} DROP COLUMN attrs")
    c.sql(
        "INSERT INTO {t} (id, `the part`, details, tags, extra) SELECT id, 'p9', named_struct('a', 1, 'bee', 'x', "
        "'inner', named_struct('x', 0.5D)), array(), concat('e', id) FROM range(20, 25)"
    )
    c.sql("DELETE FROM {t} WHERE id % 4 = 0")
    c.expect()
    c.expect(latest=True)


@table("ops", "column_mapping_name")
def column_mapping_name(c):
    column_mapped(c, "name")


@table("ops", "column_mapping_id")
def column_mapping_id(c):
    column_mapped(c, "id")


@table("ops", "timestamp_ntz")
def ops_timestamp_ntz(c):
    c.sql("CREATE TABLE {t} (id INT, at TIMESTAMP_NTZ, day TIMESTAMP_NTZ) USING delta PARTITIONED BY (day)")
    c.sql(
        "INSERT INTO {t} VALUES (1, TIMESTAMP_NTZ'2021-11-18 12:00:00.491253', TIMESTAMP_NTZ'2021-11-18 00:00:00.000001'), "
        "(2, TIMESTAMP_NTZ'1969-12-31 23:59:59.999999', TIMESTAMP_NTZ'1969-12-31 23:59:59.999999'), (3, NULL, NULL)"
    )
    c.expect(latest=True)


@table("ops", "binary_partition")
def binary_partition(c):
    schema = T.StructType([T.StructField("id", T.IntegerType()), T.StructField("b", T.BinaryType())])
    rows = [(1, "😈".encode()), (2, "héllo wörld".encode()), (3, b"plain"), (4, None), (5, b"a=b/c%d")]
    c.write(rows, schema, partition_by=["b"])
    c.expect(latest=True)


IVY_SETTINGS = """<ivysettings>
  <settings defaultResolver="central"/>
  <resolvers>
    <ibiblio name="central" m2compatible="true" root="https://repo1.maven.org/maven2/"/>
  </resolvers>
</ivysettings>
"""


def ivy_home():
    """An Ivy home of our own whose only repository is Maven Central: delta-spark's jars (pinned by
    the delta-spark package, 3 jars, 8 MB) come from there once and are reused by later runs."""
    import tempfile

    home = os.path.join(tempfile.gettempdir(), "lakestream-ivy")
    os.makedirs(home, exist_ok=True)
    settings = os.path.join(home, "ivysettings.xml")
    with open(settings, "w") as f:
        f.write(IVY_SETTINGS)
    return home, settings


def cpu_seconds(pid):
    """User + system CPU seconds a process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    only = set(sys.argv[2:])
    started = time.time()
    home, settings = ivy_home()
    builder = (
        SparkSession.builder.appName("lakestream-interop")
        .master("local[2]")
        .config("spark.sql.extensions", "io.delta.sql.DeltaSparkSessionExtension")
        .config("spark.sql.catalog.spark_catalog", "org.apache.spark.sql.delta.catalog.DeltaCatalog")
        .config("spark.jars.ivy", home)
        .config("spark.jars.ivySettings", settings)
        .config("spark.ui.enabled", "false")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.memory", "1g")
        # short jobs on a small machine: the C1 compiler alone warms up sooner, serial GC is cheapest
        .config("spark.driver.extraJavaOptions", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .config("spark.default.parallelism", "2")
        .config("spark.databricks.delta.snapshotPartitions", "2")
        .config("spark.databricks.delta.retentionDurationCheck.enabled", "false")
        .config("spark.databricks.delta.legacy.allowAmbiguousPathsInCreateTable", "true")
        # the expected rows keep microseconds, as DAT's do
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.sql.session.timeZone", "UTC")
    )
    spark = configure_spark_with_delta_pip(builder).getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    print(f"spark up in {time.time() - started:.1f} s", file=sys.stderr)
    for group, name, fn in TABLES:
        if only and name not in only:
            continue
        t0 = time.time()
        c = Case(spark, group, name)
        shutil.rmtree(c.root, ignore_errors=True)
        fn(c)
        if not os.path.isdir(os.path.join(c.root, "expected", "latest")):
            c.expect(latest=True)
        print(f"{group}/{name} in {time.time() - t0:.1f} s", file=sys.stderr)
    # CPU time says what the generation costs whatever else the machine is running (Linux /proc)
    jvm_cpu = cpu_seconds(spark._jvm.java.lang.ProcessHandle.current().pid())
    spark.stop()
    took = f"{time.time() - started:.1f} s, JVM CPU {jvm_cpu:.1f} s"
    with open(os.path.join(OUT, "DONE"), "w") as f:
        f.write(f"{took}\n")
    print(f"done in {took}", file=sys.stderr)


if __name__ == "__main__":
    main()
