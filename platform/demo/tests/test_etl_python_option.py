"""Both entry points (the demo and the restore drill) need the ETL Python and
say how to get it when it is missing, before anything starts."""

from __future__ import annotations

from typing import Callable, List, Optional

import pytest

from todo_demo import restore_drill, run
from todo_demo.pipeline import ETL_PYTHON_ENV


@pytest.mark.parametrize(
    ("main", "session"), [(run.main, "demo"), (restore_drill.main, "restore-drill")]
)
def test_without_an_etl_python_the_command_is_a_usage_error_naming_its_session(
    main: Callable[[Optional[List[str]]], int],
    session: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,
) -> None:
    monkeypatch.delenv(ETL_PYTHON_ENV, raising=False)
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert f"--etl-python (or {ETL_PYTHON_ENV}) is required: `nox -s {session}` sets it" in (
        capsys.readouterr().err
    )
