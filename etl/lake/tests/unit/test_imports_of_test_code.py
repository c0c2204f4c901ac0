"""The check behind each package's test_packaging: it finds test-only imports."""

from todo_lake_testing.packaging import imports_of_test_code


def test_imports_of_test_code_are_found_with_their_place(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "ok.py").write_text("import json\nfrom todo_core import keys\n")
    (tmp_path / "pkg" / "bad.py").write_text(
        "import os\nimport pytest\nfrom todo_local.stack import provision\nfrom . import ok\n"
    )
    assert imports_of_test_code(tmp_path) == [
        "pkg/bad.py:2 pytest",
        "pkg/bad.py:3 todo_local.stack",
    ]
