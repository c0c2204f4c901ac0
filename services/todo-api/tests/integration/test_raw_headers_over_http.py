"""Header bytes as uvicorn hands them over (latin-1), not as a test client builds them."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.conftest import new_user
from todo_api import problems
from todo_local.api_process import ApiProcess
from todo_local.stack import LocalStack

pytestmark = pytest.mark.integration
TASKS = "/api/v1/tasks"


@pytest.mark.parametrize("raw", [b'"\xb2"', b'"\xb9"', b'"1\xb2"', b'"0001"'])
def test_if_match_that_is_not_a_version_is_412_never_500(
    api_server: ApiProcess, local_stack: LocalStack, raw: bytes
) -> None:
    user = new_user(local_stack, "superscript")
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        created = http.post(TASKS, json={"title": "t"}, headers=user.headers)
        assert created.status_code == 201, created.text
        url = f"{TASKS}/{created.json()['task_id']}"
        response = http.patch(url, json={"title": "x"}, headers={**user.headers, "If-Match": raw})
        assert response.status_code == 412, response.text
        assert response.json()["type"] == problems.PRECONDITION_FAILED.uri
        assert http.get(url, headers=user.headers).json()["title"] == "t"


def test_a_malformed_if_match_over_http_is_400(
    api_server: ApiProcess, local_stack: LocalStack
) -> None:
    user = new_user(local_stack, "malformed")
    with httpx.Client(base_url=api_server.url, timeout=30) as http:
        created = http.post(TASKS, json={"title": "t"}, headers=user.headers)
        url = f"{TASKS}/{created.json()['task_id']}"
        response = http.delete(url, headers={**user.headers, "If-Match": b"\xb2"})
        assert response.status_code == 400, response.text
        assert response.json()["type"] == problems.MALFORMED_PRECONDITION.uri
