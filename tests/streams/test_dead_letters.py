"""Bad messages go to the dead-letter destination with the reason; the stream keeps going."""

from __future__ import annotations

import asyncio

import orjson

from mloop.data import Suite, checks
from mloop.store.predictions import read_predictions
from mloop.streams import dead_letter_url, run
from tests.streams.conftest import consume, fresh, publish, require, url_for


def test_bad_messages_are_dead_lettered_with_their_reason_and_counted(champion: str) -> None:
    require("amqp")
    source, sink = url_for("amqp", fresh("in")), url_for("amqp", fresh("out"))
    good = {"distance": 719.0, "hour": 6, "carrier": "UA"}
    bodies = [
        orjson.dumps({"request_id": "ok1", **good}),
        b'{"request_id": "broken", "distance": 7',  # malformed JSON
        orjson.dumps({"request_id": "type", **good, "distance": "far"}),  # wrong type
        orjson.dumps({"request_id": "missing", "hour": 6, "carrier": "UA"}),  # no distance
        orjson.dumps({"request_id": "big", **good, "note": "x" * 5000}),  # oversized
        orjson.dumps([{"request_id": "ok2", **good}, {"request_id": "neg", **good, "hour": 40}]),
        orjson.dumps(42),  # not a record
        orjson.dumps({"request_id": ["a"], **good}),  # an id that is not an id
        orjson.dumps({"request_id": "ok3", **good}),
    ]
    asyncio.run(publish(source, bodies))
    suite = Suite("flights-in", [checks.between("hour", 0, 23)])
    metrics = run(
        champion, source, sink, idle_seconds=1.0, suite=suite, max_message_bytes=4096, batch=4
    )

    outputs = asyncio.run(consume(sink, 10, timeout=2))
    assert sorted(orjson.loads(o)["id"] for o in outputs) == ["ok1", "ok2", "ok3"]
    letters = [orjson.loads(b) for b in asyncio.run(consume(dead_letter_url(source), 10, 3))]
    by_reason = {}
    for letter in letters:
        by_reason.setdefault(letter["reason"], []).append(letter)
    assert {r: len(v) for r, v in by_reason.items()} == {
        "unparsable": 1,
        "invalid": 2,
        "oversized": 1,
        "check_failed": 1,
        "not_a_record": 1,
        "bad_key": 1,
    }
    assert by_reason["unparsable"][0]["message"] == '{"request_id": "broken", "distance": 7'
    invalid = {letter["id"]: letter for letter in by_reason["invalid"]}
    assert (
        "distance" in invalid["type"]["detail"] and invalid["type"]["record"]["distance"] == "far"
    )
    assert "distance" in invalid["missing"]["detail"]
    assert by_reason["check_failed"][0]["id"] == "neg"
    assert "between(hour)" in by_reason["check_failed"][0]["detail"]
    assert "4,096" in by_reason["oversized"][0]["detail"]
    assert "guest:guest" not in by_reason["oversized"][0]["source"]
    assert metrics.scored == 3 and metrics.dead == 7
    assert dict(metrics.dead_letters) == {r: len(v) for r, v in by_reason.items()}
    text = metrics.render().decode()
    assert 'mloop_stream_dead_letters_total{reason="unparsable"} 1.0' in text
    assert 'mloop_stream_records_total{outcome="scored"} 3.0' in text
    assert sorted(read_predictions("delays")["request_id"]) == ["ok1", "ok2", "ok3"]
