"""Every filter and their combinations, paginated to the end, against a ground
truth computed independently from the created tasks; no Scan, ever."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Tuple

import pytest

from todo_core.cursor import CursorCodec
from todo_core.errors import InvalidCursor
from todo_core.models import Task, TaskPriority, TaskStatus
from todo_core.repository import MAX_PAGE_SIZE, MAX_QUERY_ROUNDS, TaskFilter, TodoRepository

D = dt.date(2030, 1, 1)
DATES: List[Optional[dt.date]] = [None] + [D + dt.timedelta(days=i) for i in range(8)]
CATEGORIES = [None, "work", "home", "errands"]
RARE = "rare"
N_TASKS = 100


@dataclass(frozen=True)
class Dataset:
    user_id: str
    tasks: List[Task]


def _fields(rng: random.Random, i: int) -> Dict[str, Any]:
    return {
        "title": f"task {i}",
        "status": rng.choice(list(TaskStatus)).value,
        "priority": rng.choice(list(TaskPriority)).value,
        "category": rng.choice(CATEGORIES),
        "due_date": rng.choice(DATES),
    }


@pytest.fixture(scope="module")
def dataset(ddb: Any, table_name: str) -> Dataset:
    """One user with many varied tasks; a few "rare" pending ones sort last in
    the pending partition (undated or latest dates), so a status+category query
    has to read past many non-matching rows: the short-page case."""
    rng = random.Random(20300101)
    user_id = f"lists-{rng.getrandbits(64):x}"
    repo = TodoRepository(ddb, table_name, CursorCodec(b"k" * 32))
    tasks = []
    for i in range(N_TASKS):
        fields = _fields(rng, i)
        if i % 33 == 7:
            fields.update(status="pending", category=RARE, due_date=rng.choice([None, DATES[-1]]))
        tasks.append(repo.create_task(Task.new(user_id, fields)))
    return Dataset(user_id, tasks)


def matches(task: Task, f: TaskFilter) -> bool:
    if f.status is not None and task.status is not f.status:
        return False
    if f.priority is not None and task.priority is not f.priority:
        return False
    if f.category is not None and task.category != f.category:
        return False
    if f.due_after is not None or f.due_before is not None:
        if task.due_date is None:
            return False
        if f.due_after is not None and task.due_date < f.due_after:
            return False
        if f.due_before is not None and task.due_date > f.due_before:
            return False
    return True


def expected(tasks: List[Task], f: TaskFilter) -> List[str]:
    """Documented order: creation order (task id) without filters; due date
    (undated last), then creation, with any filter."""
    selected = [t for t in tasks if matches(t, f)]
    if f == TaskFilter():
        return sorted(t.task_id for t in selected)
    undated_last: Callable[[Task], Tuple[bool, dt.date, str]] = lambda t: (  # noqa: E731
        t.due_date is None,
        t.due_date or dt.date.min,
        t.task_id,
    )
    return [t.task_id for t in sorted(selected, key=undated_last)]


def walk(
    repo: TodoRepository, user_id: str, f: TaskFilter, limit: int
) -> Tuple[List[str], List[int], int]:
    """Every page to the end: (ids in order, page sizes, short pages with a cursor)."""
    ids: List[str] = []
    sizes: List[int] = []
    short_with_cursor = 0
    cursor = None
    for _ in range(10 * N_TASKS):
        page = repo.list_tasks(user_id, f, limit=limit, cursor=cursor)
        assert len(page.items) <= limit
        assert all(t.user_id == user_id for t in page.items)
        ids += [t.task_id for t in page.items]
        sizes.append(len(page.items))
        if page.next_cursor is None:
            return ids, sizes, short_with_cursor
        if len(page.items) < limit:
            short_with_cursor += 1
        cursor = page.next_cursor
    raise AssertionError("pagination did not end")


S, P, C = TaskStatus, TaskPriority, "work"
FILTERS = [
    TaskFilter(),
    TaskFilter(status=S.PENDING),
    TaskFilter(status=S.COMPLETED),
    TaskFilter(priority=P.URGENT),
    TaskFilter(category="work"),
    TaskFilter(category="  HOME "),  # normalized like task categories
    TaskFilter(due_after=DATES[3]),
    TaskFilter(due_before=DATES[3]),
    TaskFilter(due_after=DATES[2], due_before=DATES[5]),
    TaskFilter(due_after=DATES[4], due_before=DATES[4]),  # one day, both bounds inclusive
    TaskFilter(status=S.PENDING, category="work"),
    TaskFilter(status=S.IN_PROGRESS, due_after=DATES[2], due_before=DATES[6]),
    TaskFilter(status=S.COMPLETED, due_before=DATES[4]),
    TaskFilter(category="errands", priority=P.HIGH),
    TaskFilter(status=S.PENDING, priority=P.LOW),
    TaskFilter(priority=P.MEDIUM, due_after=DATES[5]),
    TaskFilter(category="home", due_after=DATES[1], due_before=DATES[6]),
    TaskFilter(status=S.PENDING, category=RARE),
    TaskFilter(status=S.CANCELLED, category="work", priority=P.HIGH, due_after=DATES[1]),
    TaskFilter(category="no-such-category"),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: f.fingerprint())
@pytest.mark.parametrize("limit", [4, MAX_PAGE_SIZE])
def test_every_page_of_every_filter_matches_the_ground_truth(
    dataset: Dataset, repo: TodoRepository, f: TaskFilter, limit: int
) -> None:
    ids, _sizes, _ = walk(repo, dataset.user_id, f, limit)
    truth = expected(dataset.tasks, f)
    assert len(ids) == len(set(ids)), "a task appeared twice"
    assert ids == truth  # no gaps, no extras, documented order


@pytest.fixture(scope="module")
def sparse(ddb: Any, table_name: str) -> Dataset:
    """70 pending tasks, of which only 2 (undated, so sorted last) are "rare":
    more rows than one list call reads for a page of 1 before it answers."""
    repo = TodoRepository(ddb, table_name, CursorCodec(b"k" * 32))
    user_id = f"sparse-{random.getrandbits(64):x}"
    tasks = []
    for i in range(70):
        rare = i in (20, 50)
        fields = {
            "title": f"t{i}",
            "category": RARE if rare else "common",
            "due_date": None if rare else DATES[1 + i % 8],
        }
        tasks.append(repo.create_task(Task.new(user_id, fields)))
    return Dataset(user_id, tasks)


def test_rare_matches_produce_short_pages_that_still_continue(
    sparse: Dataset, repo: TodoRepository, logged_repo: Any
) -> None:
    f = TaskFilter(status=TaskStatus.PENDING, category=RARE)
    truth = expected(sparse.tasks, f)
    assert len(truth) == 2
    ids, sizes, short_with_cursor = walk(repo, sparse.user_id, f, limit=1)
    assert ids == truth
    # Bounded work per call: a page came back short (here: empty) with a
    # cursor, instead of one call reading the whole partition.
    assert short_with_cursor >= 1, sizes
    assert sizes[0] == 0
    logging_repo, log = logged_repo
    logging_repo.list_tasks(sparse.user_id, f, limit=1)
    assert log.operations == ["Query"] * MAX_QUERY_ROUNDS


def test_due_bounds_are_inclusive_and_exclude_undated(
    dataset: Dataset, repo: TodoRepository
) -> None:
    day = DATES[4]
    assert day is not None
    on_day = [t.task_id for t in dataset.tasks if t.due_date == day]
    assert on_day, "the data set needs tasks due on that day"
    page = repo.list_tasks(dataset.user_id, TaskFilter(due_after=day, due_before=day), limit=100)
    assert sorted(t.task_id for t in page.items) == sorted(on_day)
    ids, _, _ = walk(repo, dataset.user_id, TaskFilter(due_after=dt.date(1, 1, 1)), limit=50)
    assert sorted(ids) == sorted(t.task_id for t in dataset.tasks if t.due_date is not None)
    undated = {t.task_id for t in dataset.tasks if t.due_date is None}
    assert undated
    assert not undated & set(ids)


def test_inverted_due_range_is_empty(dataset: Dataset, repo: TodoRepository) -> None:
    f = TaskFilter(due_after=DATES[5], due_before=DATES[2])
    page = repo.list_tasks(dataset.user_id, f)
    assert (page.items, page.next_cursor) == ([], None)


@pytest.mark.parametrize("limit", [0, -1, MAX_PAGE_SIZE + 1])
def test_limit_is_bounded(repo: TodoRepository, user_id: str, limit: int) -> None:
    with pytest.raises(ValueError, match="limit"):
        repo.list_tasks(user_id, limit=limit)


def test_no_list_operation_ever_scans(dataset: Dataset, logged_repo: Any) -> None:
    repo, log = logged_repo
    for f in FILTERS:
        walk(repo, dataset.user_id, f, limit=40)
    repo.read_kpis()
    assert "Scan" not in log.operations
    assert set(log.operations) == {"Query"}
    assert log.operations.count("Query") >= len(FILTERS)


def test_each_list_call_is_bounded_queries(dataset: Dataset, logged_repo: Any) -> None:
    repo, log = logged_repo
    for f in FILTERS:
        log.clear()
        repo.list_tasks(dataset.user_id, f, limit=5)
        assert set(log.operations) == {"Query"}
        assert 1 <= len(log.operations) <= MAX_QUERY_ROUNDS


# --- cursors ------------------------------------------------------------------------------


def test_a_cursor_only_continues_its_own_query(dataset: Dataset, repo: TodoRepository) -> None:
    f = TaskFilter(status=TaskStatus.PENDING)
    cursor = repo.list_tasks(dataset.user_id, f, limit=2).next_cursor
    assert cursor is not None
    for other in (
        TaskFilter(),
        TaskFilter(status=TaskStatus.COMPLETED),
        TaskFilter(status=TaskStatus.PENDING, category="work"),
    ):
        with pytest.raises(InvalidCursor):
            repo.list_tasks(dataset.user_id, other, limit=2, cursor=cursor)


def test_tampered_cursor_is_rejected(dataset: Dataset, repo: TodoRepository) -> None:
    cursor = repo.list_tasks(dataset.user_id, limit=2).next_cursor
    assert cursor is not None
    payload, mac = cursor.split(".")
    for bad in (cursor[:-1], payload + "." + mac[::-1], "x" + cursor, cursor + "A"):
        with pytest.raises(InvalidCursor):
            repo.list_tasks(dataset.user_id, limit=2, cursor=bad)


def test_pages_do_not_depend_on_limit_history(dataset: Dataset, repo: TodoRepository) -> None:
    """Changing the page size mid-walk is allowed and still yields every task once."""
    truth = expected(dataset.tasks, TaskFilter())
    ids: List[str] = []
    cursor = None
    for limit in itertools.cycle([1, 7, 50]):
        page = repo.list_tasks(dataset.user_id, limit=limit, cursor=cursor)
        ids += [t.task_id for t in page.items]
        cursor = page.next_cursor
        if cursor is None:
            break
    assert ids == truth
