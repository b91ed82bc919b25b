"""The generic batch loop, on fake Kafka clients (pure logic: the real broker is in orders/tests/test_consumer.py).

The fakes record every call in one shared list, so a test can say in what order
the loop handled, dead-lettered and committed.
"""

import pytest

from plumbing.kafka import batches
from plumbing.kafka.batches import BatchWorker, Delivered


class FakeMessage:
    def __init__(self, topic, partition, offset, value, key=b"k"):
        self._where = (topic, partition, offset)
        self._value, self._key = value, key

    def topic(self):
        return self._where[0]

    def partition(self):
        return self._where[1]

    def offset(self):
        return self._where[2]

    def value(self):
        return self._value

    def key(self):
        return self._key

    def error(self):
        return None


class FakeConsumer:
    """Hands out the given batches one ``consume`` at a time, then nothing."""

    def __init__(self, journal, batches_to_give):
        self.journal, self.batches = journal, list(batches_to_give)

    def subscribe(self, topics):
        self.journal.append(("subscribe", tuple(topics)))

    def consume(self, num_messages, timeout):
        if not self.batches:
            return []
        batch = self.batches.pop(0)
        if len(batch) > num_messages:  # as Kafka does: never more than asked for
            self.batches.insert(0, batch[num_messages:])
        return batch[:num_messages]

    def commit(self, offsets, asynchronous):
        assert asynchronous is False
        self.journal.append(("commit", sorted((tp.topic, tp.partition, tp.offset) for tp in offsets)))

    def close(self):
        self.journal.append(("close",))


class FakeProducer:
    def __init__(self, journal, acknowledges=True):
        self.journal, self.acknowledges, self.queued = journal, acknowledges, []

    def produce(self, topic, key, value, headers):
        self.queued.append((topic, value, headers["reason"], headers["source"]))

    def flush(self, timeout):
        if self.acknowledges:
            if self.queued:
                self.journal.append(("dead-letter", list(self.queued)))
            self.queued.clear()
            return 0
        return len(self.queued)


def decode(raw):
    if not raw.isdigit():
        raise ValueError(f"not a number: {raw!r}")
    return int(raw)


@pytest.fixture
def journal():
    return []


def worker(journal, given, handle, *, producer=None, **options) -> BatchWorker:
    options.setdefault("max_messages", sum(len(b) for b in given))
    return BatchWorker(
        topics=["t"],
        group_id="g",
        client_id="c",
        decode=decode,
        handle=handle,
        dead_letter_topic="t.dlq",
        make_consumer=lambda: FakeConsumer(journal, given),
        make_producer=lambda: producer or FakeProducer(journal),
        **options,
    )


class Result:
    def __init__(self, handled, rejected=()):
        self.handled, self.rejected = handled, list(rejected)


def recording(journal, reject=lambda d: None):
    def handle(batch: list[Delivered]):
        journal.append(("handle", [d.value for d in batch]))
        return Result(batch, [(d, why) for d in batch if (why := reject(d))])

    return handle


def test_each_batch_is_handled_then_committed_past_its_last_offset_per_partition(journal):
    given = [
        [FakeMessage("t", 0, 10, b"1"), FakeMessage("t", 1, 4, b"2"), FakeMessage("t", 0, 11, b"3")],
        [FakeMessage("t", 1, 5, b"4")],
    ]
    committed = []
    w = worker(journal, given, recording(journal), on_committed=lambda r: committed.append(r.handled))
    w.run()
    assert journal == [
        ("subscribe", ("t",)),
        ("handle", [1, 2, 3]),
        ("commit", [("t", 0, 12), ("t", 1, 5)]),
        ("handle", [4]),
        ("commit", [("t", 1, 6)]),
        ("close",),
    ]
    assert [[d.value for d in batch] for batch in committed] == [[1, 2, 3], [4]]
    assert w.processed == 4


def test_handler_sees_where_each_value_came_from(journal):
    seen = []

    def handle(batch):
        seen.extend(batch)
        return Result(batch)

    worker(journal, [[FakeMessage("t", 2, 7, b"42")]], handle).run()
    assert seen == [Delivered(42, "t", 2, 7)]


def test_undecodable_and_rejected_messages_are_dead_lettered_before_the_commit(journal):
    given = [[FakeMessage("t", 0, 0, b"1"), FakeMessage("t", 0, 1, b"oops"), FakeMessage("t", 0, 2, b"13")]]
    handle = recording(journal, reject=lambda d: "unlucky" if d.value == 13 else None)
    worker(journal, given, handle).run()
    assert journal[1:] == [
        ("handle", [1, 13]),
        ("dead-letter", [("t.dlq", b"oops", "not a number: b'oops'", "t/0/1"), ("t.dlq", b"13", "unlucky", "t/0/2")]),
        ("commit", [("t", 0, 3)]),
        ("close",),
    ]


def test_a_transient_error_retries_the_same_batch_and_commits_only_once_it_goes_through(journal, monkeypatch):
    monkeypatch.setattr(batches, "BACKOFF_START", 0.01)
    failures = [ConnectionError("store down"), ConnectionError("still down")]

    def handle(batch):
        journal.append(("handle", [d.value for d in batch]))
        if failures:
            raise failures.pop(0)
        return Result(batch)

    worker(journal, [[FakeMessage("t", 0, 0, b"1")]], handle, transient=(ConnectionError,)).run()
    assert journal[1:] == [("handle", [1])] * 3 + [("commit", [("t", 0, 1)]), ("close",)]


def test_an_unacknowledged_dead_letter_retries_the_batch(journal, monkeypatch):
    monkeypatch.setattr(batches, "BACKOFF_START", 0.01)
    producer = FakeProducer(journal, acknowledges=False)
    w = worker(journal, [[FakeMessage("t", 0, 0, b"bad")]], recording(journal), producer=producer)
    handled = []

    def acknowledge_on_second_try(batch):
        handled.append(batch)
        producer.acknowledges = len(handled) >= 2
        return Result(batch)

    w.handle = acknowledge_on_second_try
    w.run()
    assert len(handled) == 2
    assert [entry[0] for entry in journal[1:]] == ["dead-letter", "commit", "close"]


def test_an_error_that_is_not_transient_stops_the_worker_without_a_commit(journal):
    def handle(batch):
        raise RuntimeError("bug")

    with pytest.raises(RuntimeError):
        worker(journal, [[FakeMessage("t", 0, 0, b"1")]], handle, transient=(ConnectionError,)).run()
    assert journal == [("subscribe", ("t",)), ("close",)]


def test_stop_finishes_the_batch_in_hand_and_commits_it(journal):
    given = [[FakeMessage("t", 0, 0, b"1")], [FakeMessage("t", 0, 1, b"2")]]
    w = worker(journal, given, None, max_messages=None)

    def handle_and_be_stopped(batch):
        w.stop()  # the signal arrives while the batch is being handled
        journal.append(("handle", [d.value for d in batch]))
        return Result(batch)

    w.handle = handle_and_be_stopped
    w.run()
    assert journal[1:] == [("handle", [1]), ("commit", [("t", 0, 1)]), ("close",)]


def test_stop_while_the_batch_keeps_failing_commits_nothing(journal, monkeypatch):
    monkeypatch.setattr(batches, "BACKOFF_START", 0.01)
    w = worker(journal, [[FakeMessage("t", 0, 0, b"1")]], None, transient=(ConnectionError,))
    attempts = []

    def failing(batch):
        attempts.append(1)
        if len(attempts) == 3:
            w.stop()
        raise ConnectionError("down")

    w.handle = failing
    w.run()
    assert len(attempts) == 3
    assert journal == [("subscribe", ("t",)), ("close",)]
    assert w.processed == 0


def test_max_messages_is_exact_across_batches(journal):
    given = [[FakeMessage("t", 0, i, str(i).encode()) for i in range(5)]]
    w = worker(journal, given, recording(journal), max_messages=3, batch_size=2)
    w.run()
    assert w.processed == 3
    assert journal[1:] == [
        ("handle", [0, 1]),
        ("commit", [("t", 0, 2)]),
        ("handle", [2]),
        ("commit", [("t", 0, 3)]),
        ("close",),
    ]
