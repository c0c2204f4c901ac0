"""The Lambda zip builder every function uses (todo_artifacts.lambda_artifact)."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

import pytest

from todo_artifacts import lambda_artifact
from todo_artifacts.lambda_artifact import (
    ArtifactError,
    build_lambda_zip,
    describe,
    find_workspace_root,
    workspace_members,
    write_deterministic_zip,
)

ROOT = find_workspace_root(Path(__file__).resolve().parent)


def test_workspace_members_are_found() -> None:
    members = workspace_members(ROOT)
    assert members["todo-api"] == ROOT / "services" / "todo-api"
    assert members["todo-core"] == ROOT / "shared" / "todo_core"


def test_zip_bytes_depend_only_on_the_contents(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / "b.py").write_text("B = 2\n")
    (tree / "pkg" / "a.py").write_text("A = 1\n")
    first, second = tmp_path / "1.zip", tmp_path / "2.zip"
    write_deterministic_zip(tree, first)
    # Same contents, different file times and creation order.
    (tree / "pkg" / "a.py").touch()
    write_deterministic_zip(tree, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as archive:
        assert archive.namelist() == ["pkg/a.py", "pkg/b.py"]
        assert {i.date_time for i in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.external_attr >> 16 for i in archive.infolist()} == {0o100644}


def test_invalid_options_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError):
        build_lambda_zip("todo-api", ROOT / "services" / "todo-api", tmp_path, bytecode="optimised")
    with pytest.raises(ArtifactError):
        lambda_artifact._exclude(tmp_path, ["../outside"])


@pytest.mark.integration
def test_two_builds_are_byte_identical(tmp_path: Path) -> None:
    """Reproducible: the same lock and sources give the same sha256."""
    package = ROOT / "services" / "todo-api"
    first = build_lambda_zip("todo-api", package, tmp_path / "a")
    second = build_lambda_zip("todo-api", package, tmp_path / "b")
    assert (
        hashlib.sha256(first.read_bytes()).hexdigest()
        == hashlib.sha256(second.read_bytes()).hexdigest()
    )
    info = describe(first)
    assert info.path.name == "todo-api.zip"
    assert info.files > 100
    with zipfile.ZipFile(first) as archive:
        names = set(archive.namelist())
    # Declared trimming took effect; workspace libraries are inside as real files.
    assert "todo_core/keys.py" in names
    assert "todo_api/handler.py" in names
    assert not any(n.startswith("botocore/data/s3/") for n in names)
    assert any(n.startswith("botocore/data/dynamodb/") for n in names)


def test_cli_passes_its_options_to_the_builder(
    tmp_path: Path, capsys: pytest.CaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen = {}

    def fake_build(name: str, path: Path, out_dir: str, **options: object) -> Path:
        seen.update(name=name, path=Path(path), out_dir=out_dir, **options)
        target = Path(out_dir) / f"{name}.zip"
        tree = tmp_path / "tree"
        tree.mkdir()
        (tree / "m.py").write_text("x = 1\n")
        write_deterministic_zip(tree, target)
        return target

    monkeypatch.setattr(lambda_artifact, "build_lambda_zip", fake_build)
    code = lambda_artifact.main(
        [
            "--package",
            "todo-api",
            "--out-dir",
            str(tmp_path),
            "--root",
            str(ROOT),
            "--bytecode",
            "none",
            "--aws-service",
            "dynamodb",
            "--aws-service",
            "sts",
        ]
    )
    assert code == 0
    assert seen == {
        "name": "todo-api",
        "path": ROOT / "services" / "todo-api",
        "out_dir": str(tmp_path),
        "bytecode": "none",
        "aws_services": ["dynamodb", "sts"],
        "root": ROOT,
    }
    assert "MB zipped" in capsys.readouterr().out
