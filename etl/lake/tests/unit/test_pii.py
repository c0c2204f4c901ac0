"""Which database each silver table is registered in."""

from todo_core import lake
from todo_lake.pii import PII_TABLES, database_for, pii_database


def test_only_the_pii_tables_go_to_the_pii_database():
    assert pii_database("todo_analytics_prod") == "todo_analytics_prod_pii"
    assert database_for("db", lake.SILVER_USERS) == "db_pii"
    for table in set(lake.SILVER_TABLES) - PII_TABLES:
        assert database_for("db", table) == "db"
