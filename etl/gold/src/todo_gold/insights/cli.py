"""``todo-insights``: the named insight queries, as tables, and the HTML report.

    todo-insights kpis
    todo-insights completion-trend | top-categories | user-engagement
    todo-insights report [--out .local/report.html]

Locally (the default engine, DuckDB) the gold tables are read from the gold
bucket; the bucket, database and emulator address come from the flags, or
from the local stack's ``.local/outputs.json``. ``--engine athena`` runs the
same SQL in Athena instead (AWS credentials and a workgroup needed).

The process environment is left as it is: the emulator's address from the
outputs file goes to the one S3 client the CLI makes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Sequence

import pyarrow as pa

from todo_gold import queries

QUERIES = {
    "kpis": "kpis",
    "completion-trend": "completion_trend",
    "top-categories": "top_categories",
    "user-engagement": "user_engagement",
}
DEFAULT_OUTPUTS = os.path.join(".local", "outputs.json")
DEFAULT_REPORT = os.path.join(".local", "report.html")
#: What the CLI signs requests to the local emulator with when no AWS
#: credentials are configured (the emulator does not check them).
EMULATOR_KEY = "local-emulator"


class Insights:
    """Runs the named insight queries against the gold tables."""

    def __init__(
        self,
        gold_bucket: str,
        database: str,
        engine: str = "duckdb",
        workgroup: Optional[str] = None,
        s3_client: Optional[Any] = None,
        glue_client: Optional[Any] = None,
    ) -> None:
        self.gold_bucket, self.database, self.engine_name = gold_bucket, database, engine
        self.workgroup = workgroup
        self.s3_client = s3_client
        self.glue_client = glue_client
        self._engine: Any = None

    def _ready(self) -> Any:
        if self._engine is None:
            if self.engine_name == "athena":
                from todo_gold.engines import AthenaEngine

                self._engine = AthenaEngine(self.database, self.workgroup)
            else:
                from todo_gold.engines import DuckDBEngine, register_gold
                from todo_lake.store import LakeStore

                self._engine = DuckDBEngine()
                gold = LakeStore(self.gold_bucket, self.database, self.s3_client)
                glue = self.glue_client
                if glue is None:
                    import boto3

                    glue = boto3.client("glue")
                register_gold(self._engine, gold, queries.TABLES, glue)
        return self._engine

    def run(self, name: str) -> pa.Table:
        return self._ready().query(queries.load("insights", QUERIES.get(name, name)))


def format_value(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}".rstrip("0").rstrip(".") if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_table(table: pa.Table, title: Optional[str] = None) -> str:
    """A plain-text table (no extra dependency)."""
    headers = table.column_names
    rows = [[format_value(v) for v in row.values()] for row in table.to_pylist()]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]
    line = "  ".join("-" * w for w in widths)
    out: List[str] = []
    if title:
        out.append(title)
    out.append("  ".join(h.ljust(w) for h, w in zip(headers, widths)))
    out.append(line)
    for r in rows:
        out.append("  ".join(v.rjust(w) if _numeric(v) else v.ljust(w) for v, w in zip(r, widths)))
    if not rows:
        out.append("(no rows)")
    return "\n".join(out)


def _numeric(text: str) -> bool:
    return text.replace(",", "").replace(".", "").replace("-", "").isdigit()


@dataclass(frozen=True)
class Location:
    """Where the gold tables are, and the emulator serving them (local stack only)."""

    gold_bucket: str
    database: str
    endpoint_url: Optional[str] = None
    region: Optional[str] = None

    def s3_client(self) -> Optional[Any]:
        """An S3 client aimed at the local stack's emulator; None for the
        default client (AWS, or wherever ``AWS_ENDPOINT_URL`` points)."""
        return self._client("s3")

    def glue_client(self) -> Optional[Any]:
        """The same for the Glue catalog (which says where each table's files are)."""
        return self._client("glue")

    def _client(self, service: str) -> Optional[Any]:
        if not self.endpoint_url:
            return None
        import boto3

        session = boto3.Session(region_name=self.region)
        if session.get_credentials() is None:
            # The emulator accepts any key but boto3 signs every request:
            # this one client gets a placeholder, the environment stays as is.
            session = boto3.Session(
                aws_access_key_id=EMULATOR_KEY,
                aws_secret_access_key=EMULATOR_KEY,
                region_name=self.region,
            )
        return session.client(service, endpoint_url=self.endpoint_url)


def locate(args: argparse.Namespace) -> Location:
    outputs: Dict[str, str] = {}
    if args.outputs and os.path.exists(args.outputs):
        with open(args.outputs, encoding="utf-8") as handle:
            outputs = json.load(handle)
    gold = args.gold_bucket or os.environ.get("GOLD_BUCKET") or outputs.get("GoldBucketName")
    database = args.database or os.environ.get("DATABASE_NAME") or outputs.get("GlueDatabaseName")
    if not gold or not database:
        raise SystemExit(
            "todo-insights: give --gold-bucket and --database, or run the local stack "
            f"so that {args.outputs} exists"
        )
    endpoint = outputs.get("AwsEndpointUrl")
    if endpoint and args.engine == "duckdb" and "AWS_ENDPOINT_URL" not in os.environ:
        return Location(gold, database, endpoint, outputs.get("Region", "us-east-1"))
    return Location(gold, database)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="todo-insights",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("query", choices=[*QUERIES, "all", "report"])
    parser.add_argument("--engine", choices=["duckdb", "athena"], default="duckdb")
    parser.add_argument("--gold-bucket")
    parser.add_argument("--database")
    parser.add_argument("--workgroup", help="Athena workgroup (--engine athena)")
    parser.add_argument("--outputs", default=DEFAULT_OUTPUTS, help="local stack outputs file")
    parser.add_argument("--out", default=DEFAULT_REPORT, help="where `report` writes the HTML")
    parser.add_argument(
        "--report",
        action="store_true",
        help="with `all`: also write the HTML report (--out), from the same connection",
    )
    parser.add_argument("--json", action="store_true", help="print JSON rows instead of a table")
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    where = locate(args)
    insights = Insights(
        where.gold_bucket,
        where.database,
        args.engine,
        args.workgroup,
        where.s3_client(),
        where.glue_client(),
    )
    if args.report and args.query != "all":
        raise SystemExit("todo-insights: --report goes with `all` (or run `report`)")
    if args.query != "report":
        names = list(QUERIES) if args.query == "all" else [args.query]
        for name in names:
            table = insights.run(name)
            if args.json:
                print(json.dumps({name: table.to_pylist()}, default=str))
            else:
                print(render_table(table, title=f"== {name} =="))
                print()
    if args.query == "report" or args.report:
        from todo_gold.insights.report import write_report

        path = write_report(insights, args.out)
        print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
