from hypothesis import given
from hypothesis import strategies as st

from todo_core import keys


@given(user_id=st.text(min_size=1), task_id=st.text(min_size=1))
def test_task_key_round_trips_for_any_ids(user_id: str, task_id: str) -> None:
    assert keys.parse_task_key(keys.task_key(user_id, task_id)) == (user_id, task_id)


@given(user_id=st.text(min_size=1))
def test_user_key_round_trips_for_any_id(user_id: str) -> None:
    assert keys.parse_user_key(keys.user_key(user_id)) == user_id
