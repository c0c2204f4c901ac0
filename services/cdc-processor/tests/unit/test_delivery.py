"""FirehoseDelivery: retries exactly the rejected entries, bounded, with jittered backoff."""

from __future__ import annotations

import random
from typing import Any, List

import pytest
from botocore.exceptions import ReadTimeoutError
from conftest import FakeFirehose, client_error
from hypothesis import given, settings
from hypothesis import strategies as st

from cdc_processor.delivery import FirehoseDelivery, RetryPolicy


def _payloads(n: int) -> List[bytes]:
    return [f'{{"n":{i}}}\n'.encode() for i in range(n)]


def _delivery(fake: FakeFirehose, sleeps: List[float], **policy: Any) -> FirehoseDelivery:
    return FirehoseDelivery(
        fake, "stream", RetryPolicy(**policy), sleep=sleeps.append, rand=lambda: 1.0
    )


def test_backoff_doubles_up_to_the_cap_and_sleeps_before_each_retry_only() -> None:
    fake = FakeFirehose(lambda n, datas: client_error("ThrottlingException"))
    sleeps: List[float] = []

    report = _delivery(fake, sleeps, max_attempts=6, base_seconds=0.1, cap_seconds=0.5).deliver(
        _payloads(3)
    )

    assert sleeps == pytest.approx([0.1, 0.2, 0.4, 0.5, 0.5])
    assert report.calls == 6
    assert sorted(report.failed) == [0, 1, 2]
    assert set(report.failed.values()) == {"ThrottlingException"}


@given(
    retry=st.integers(min_value=1, max_value=60),
    draw=st.floats(min_value=0, max_value=1),
    base=st.floats(min_value=0, max_value=5),
    cap=st.floats(min_value=0, max_value=30),
)
def test_full_jitter_stays_between_zero_and_the_capped_exponential(
    retry: int, draw: float, base: float, cap: float
) -> None:
    pause = RetryPolicy(base_seconds=base, cap_seconds=cap).backoff(retry, lambda: draw)
    assert 0 <= pause <= min(cap, base * 2 ** (retry - 1)) + 1e-9


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    count=st.integers(min_value=1, max_value=40),
    attempts=st.integers(min_value=1, max_value=6),
)
def test_any_failure_pattern_every_entry_is_accepted_once_or_reported(
    data: st.DataObject, count: int, attempts: int
) -> None:
    """Whatever Firehose rejects, call after call: each entry is accepted once or is in
    ``failed``; never both, never neither."""
    codes = st.one_of(
        st.none(), st.sampled_from(["ServiceUnavailableException", "InternalFailure"])
    )

    def plan(n: int, datas: List[bytes]) -> Any:
        if data.draw(st.booleans(), label="whole call fails"):
            return client_error("ServiceUnavailableException", 503)
        return [data.draw(codes, label="entry code") for _ in datas]

    fake = FakeFirehose(plan)
    report = FirehoseDelivery(
        fake, "s", RetryPolicy(max_attempts=attempts), sleep=lambda s: None
    ).deliver(_payloads(count))

    accepted = [int(d[5:-2]) for d in fake.accepted]
    assert len(accepted) == len(set(accepted)), "an accepted entry is never sent again"
    assert sorted(accepted + sorted(report.failed)) == list(range(count))
    assert report.calls <= attempts
    for previous, current in zip(fake.calls, fake.calls[1:]):
        assert set(current) <= set(previous), "a retry re-sends a subset of the previous call"


def test_read_timeouts_are_retried() -> None:
    fake = FakeFirehose(
        lambda n, datas: ReadTimeoutError(endpoint_url="http://x") if n == 0 else None
    )

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(4))

    assert report.failed == {}
    assert report.retried == 4
    assert len(fake.accepted) == 4


def test_a_malformed_answer_resends_the_whole_chunk() -> None:
    class Lying(FakeFirehose):
        def put_record_batch(self, **kwargs: Any) -> Any:
            response = super().put_record_batch(**kwargs)
            if len(self.calls) == 1:
                return {"FailedPutCount": 1, "RequestResponses": []}
            return response

    fake = Lying()
    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(3))

    assert report.failed == {}
    assert fake.calls[1] == fake.calls[0], "duplicates rather than losses"


def test_deadline_stops_retrying_and_reports_why() -> None:
    fake = FakeFirehose(lambda n, datas: ["InternalFailure"] * len(datas))
    clock = iter([10.0, 10.0, 10.0, 2.5])  # checked before every attempt
    delivery = FirehoseDelivery(
        fake,
        "s",
        RetryPolicy(max_attempts=10, deadline_margin_seconds=3.0),
        sleep=lambda s: None,
        rand=random.Random(1).random,
    )

    report = delivery.deliver(_payloads(2), remaining_seconds=lambda: next(clock))

    assert report.calls == 3
    assert report.failed == {
        0: "InternalFailure (deadline reached)",
        1: "InternalFailure (deadline reached)",
    }


def test_chunks_are_delivered_independently() -> None:
    fake = FakeFirehose(
        lambda n, datas: client_error("ServiceUnavailableException", 503) if n == 0 else None
    )

    report = FirehoseDelivery(
        fake, "s", RetryPolicy(max_attempts=1), sleep=lambda s: None, max_records=2
    ).deliver(_payloads(5))

    assert sorted(report.failed) == [0, 1], "only the first chunk's call failed"
    assert [len(c) for c in fake.calls] == [2, 2, 1]


# --- which whole-call failures are retried, and what is reported -----------------------------

#: The error codes AWS services answer for throttling and service-side faults
#: (Firehose's own and botocore's generic ones), spelled out here, not read
#: from the module, so dropping one from the retry list fails a test.
THROTTLING_AND_SERVICE_FAULTS = [
    "ServiceUnavailableException",
    "ThrottlingException",
    "Throttling",
    "LimitExceededException",
    "InternalFailure",
    "InternalFailureException",
    "InternalServerError",
    "InternalServerErrorException",
    "ServiceUnavailable",
    "RequestTimeout",
    "RequestTimeoutException",
]


@pytest.mark.parametrize("code", THROTTLING_AND_SERVICE_FAULTS)
def test_throttling_and_service_faults_are_retried_whatever_their_status(code: str) -> None:
    fake = FakeFirehose(lambda n, datas: client_error(code, 400) if n == 0 else None)

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(2))

    assert report.failed == {}
    assert report.calls == 2
    assert len(fake.accepted) == 2


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_any_5xx_is_retried_even_with_an_unlisted_error_code(status: int) -> None:
    fake = FakeFirehose(lambda n, datas: client_error("SomethingNew", status) if n == 0 else None)

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(2))

    assert report.failed == {}
    assert report.calls == 2


@pytest.mark.parametrize(
    "code",
    [
        "ValidationException",
        "ResourceNotFoundException",
        "AccessDeniedException",
        "InvalidArgumentException",
    ],
)
def test_a_client_error_is_not_retried_and_is_reported_by_its_code(code: str) -> None:
    fake = FakeFirehose(lambda n, datas: client_error(code, 400))

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(2))

    assert report.calls == 1
    assert report.failed == {0: code, 1: code}


def test_connection_errors_that_use_up_every_attempt_are_reported_by_their_name() -> None:
    from botocore.exceptions import EndpointConnectionError

    fake = FakeFirehose(lambda n, datas: EndpointConnectionError(endpoint_url="http://x"))

    report = FirehoseDelivery(fake, "s", RetryPolicy(max_attempts=4), sleep=lambda s: None).deliver(
        _payloads(3)
    )

    assert report.calls == 4
    assert report.retried == 9
    assert report.failed == dict.fromkeys(range(3), "EndpointConnectionError")


def test_without_a_deadline_the_default_policy_tries_six_times_from_50_ms() -> None:
    """The retry budget the README states for one invocation (about 1.6 s of backoff)."""
    fake = FakeFirehose(lambda n, datas: client_error("ThrottlingException"))
    sleeps: List[float] = []

    # Without a deadline (no Lambda context), six attempts bound the retries.
    FirehoseDelivery(fake, "s", sleep=sleeps.append, rand=lambda: 1.0).deliver(_payloads(1))

    assert len(fake.calls) == 6
    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8])
    assert RetryPolicy().deadline_margin_seconds == 14.0


def test_an_attempt_still_starts_with_exactly_the_margin_left() -> None:
    """The margin is the least time an attempt may start with: equal is enough."""
    fake = FakeFirehose(lambda n, datas: ["InternalFailure"] * len(datas) if n == 0 else None)
    delivery = FirehoseDelivery(
        fake,
        "s",
        RetryPolicy(deadline_margin_seconds=3.0),
        sleep=lambda s: None,
        rand=lambda: 0.0,
    )

    report = delivery.deliver(_payloads(2), remaining_seconds=lambda: 3.0)

    assert report.calls == 2
    assert report.failed == {}


# --- what is sent, how often, and what is reported when it is not accepted ------------------


def test_a_chunk_accepted_at_once_is_one_call_to_the_named_stream() -> None:
    fake = FakeFirehose()
    sleeps: List[float] = []

    report = FirehoseDelivery(fake, "todo-cdc-stream-dev", sleep=sleeps.append).deliver(
        _payloads(3)
    )

    assert report.calls == 1
    assert report.retried == 0
    assert report.failed == {}
    assert sleeps == []
    assert fake.stream_names == ["todo-cdc-stream-dev"]
    assert fake.calls == [_payloads(3)]


def test_entries_accepted_on_a_retry_are_not_sent_again() -> None:
    fake = FakeFirehose(lambda n, datas: ["InternalFailure", None, None] if n == 0 else None)

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(3))

    assert report.calls == 2
    assert report.retried == 1
    assert fake.calls[1] == _payloads(1)
    assert report.failed == {}


def test_entries_rejected_on_every_attempt_are_reported_by_their_error_code() -> None:
    first = _payloads(1)[0]
    fake = FakeFirehose(
        lambda n, datas: [None if d == first else "ServiceUnavailableException" for d in datas]
    )

    report = FirehoseDelivery(fake, "s", RetryPolicy(max_attempts=3), sleep=lambda s: None).deliver(
        _payloads(3)
    )

    assert report.calls == 3
    assert report.failed == {1: "ServiceUnavailableException", 2: "ServiceUnavailableException"}


def test_the_default_policy_cannot_be_changed_by_one_delivery() -> None:
    """Every FirehoseDelivery without a policy shares the default one."""
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        RetryPolicy().max_attempts = 1  # type: ignore[misc]


def test_with_a_deadline_the_backoff_grows_to_two_seconds_and_stays_there() -> None:
    fake = FakeFirehose(lambda n, datas: client_error("ThrottlingException") if n < 9 else None)
    sleeps: List[float] = []

    report = FirehoseDelivery(fake, "s", sleep=sleeps.append, rand=lambda: 1.0).deliver(
        _payloads(1), remaining_seconds=lambda: 60.0
    )

    assert report.failed == {}
    assert sleeps == pytest.approx([0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 2.0, 2.0, 2.0])


def test_a_client_error_without_a_code_is_reported_as_a_client_error() -> None:
    from botocore.exceptions import ClientError

    fake = FakeFirehose(lambda n, datas: ClientError({"Error": {}}, "PutRecordBatch"))

    report = FirehoseDelivery(fake, "s", sleep=lambda s: None).deliver(_payloads(2))

    assert report.calls == 1, "no code, no 5xx: not retried"
    assert report.failed == {0: "ClientError", 1: "ClientError"}


def test_no_retry_starts_that_would_sleep_into_the_margin() -> None:
    """3.5 s left, a 3 s margin: the 1 s backoff would leave 2.5 s, so the
    entries are reported now rather than after a sleep."""
    fake = FakeFirehose(lambda n, datas: ["InternalFailure"] * len(datas))
    sleeps: List[float] = []
    delivery = FirehoseDelivery(
        fake,
        "s",
        RetryPolicy(base_seconds=1.0, deadline_margin_seconds=3.0),
        sleep=sleeps.append,
        rand=lambda: 1.0,
    )

    report = delivery.deliver(_payloads(2), remaining_seconds=lambda: 3.5)

    assert report.calls == 1
    assert sleeps == []
    assert report.failed == dict.fromkeys(range(2), "InternalFailure (deadline reached)")


def test_entries_never_attempted_are_reported_as_such() -> None:
    fake = FakeFirehose()

    no_attempts = FirehoseDelivery(fake, "s", RetryPolicy(max_attempts=0)).deliver(_payloads(2))
    no_time = FirehoseDelivery(fake, "s").deliver(_payloads(2), remaining_seconds=lambda: 1.0)

    assert fake.calls == []
    assert no_attempts.failed == {0: "NotAttempted", 1: "NotAttempted"}
    assert no_time.failed == dict.fromkeys(range(2), "NotAttempted (deadline reached)")


def test_answers_that_never_say_which_entries_landed_are_reported_as_malformed() -> None:
    class Lying(FakeFirehose):
        def put_record_batch(self, **kwargs: Any) -> Any:
            super().put_record_batch(**kwargs)
            return {"FailedPutCount": 1, "RequestResponses": [{}]}

    fake = Lying()
    report = FirehoseDelivery(fake, "s", RetryPolicy(max_attempts=2), sleep=lambda s: None).deliver(
        _payloads(3)
    )

    assert report.calls == 2
    assert report.failed == dict.fromkeys(range(3), "MalformedResponse")


def test_an_answer_whose_entries_all_landed_ends_the_chunk_whatever_its_count() -> None:
    """``FailedPutCount`` says one failed, yet every entry carries a RecordId: the
    entries are what tell which landed, so nothing is left to send, and no
    empty batch follows (Firehose refuses one)."""

    class Miscounting(FakeFirehose):
        def put_record_batch(self, **kwargs: Any) -> Any:
            return {**super().put_record_batch(**kwargs), "FailedPutCount": 1}

    fake = Miscounting()
    sleeps: List[float] = []
    report = FirehoseDelivery(fake, "s", sleep=sleeps.append).deliver(_payloads(3))

    assert fake.calls == [_payloads(3)]
    assert report.calls == 1
    assert report.retried == 0
    assert report.failed == {}
    assert sleeps == []
