"""The shipped package holds no test code: nothing in it imports a test-only module."""

from pathlib import Path

from todo_lake_testing.packaging import imports_of_test_code

SOURCE = Path(__file__).resolve().parents[2] / "src"


def test_the_package_imports_no_test_only_module():
    assert SOURCE.is_dir()
    assert imports_of_test_code(SOURCE) == []
