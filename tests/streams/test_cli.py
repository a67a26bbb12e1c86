"""``mloop stream run`` from the command line: clear errors, no traceback."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import mloop
from mloop.core.errors import StoreUnavailable
from mloop.streams import StreamRunner
from tests.streams.conftest import consume, fresh, publish, require, url_for


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {"PYTHONPATH": str(Path(mloop.__file__).parents[1]), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "mloop", "stream", "run", *args],
        cwd=cwd,
        env={**env, "MLOOP_HOME": str(cwd / ".mloop")},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_bad_source_url_is_one_clear_error(tmp_path: Path) -> None:
    done = _cli(
        "models:/delays@champion",
        "--source",
        "kafka://127.0.0.1:9092?topic=flights",
        "--sink",
        "redis://127.0.0.1:6379/0?stream=scores",
        cwd=tmp_path,
    )
    assert done.returncode == 1
    assert "error: stream URL 'kafka://127.0.0.1:9092?topic=flights': scheme 'kafka'" in done.stderr
    assert "Traceback" not in done.stderr


def test_an_unreachable_broker_is_named_without_its_password(champion: str) -> None:
    runner = StreamRunner(
        champion,
        "amqp://guest:secret@127.0.0.1:1/%2f?queue=flights",
        "redis://127.0.0.1:6379/0?stream=scores",
    )
    with pytest.raises(
        StoreUnavailable, match=re.escape("cannot reach the broker of amqp://guest@127.0.0.1:1")
    ) as info:
        asyncio.run(runner.run())
    assert "secret" not in str(info.value)


def test_the_cli_scores_a_stream_and_reports_the_counts(champion: str, mloop_home: Path) -> None:
    require("redis")
    source, sink = url_for("redis", fresh("in")), url_for("redis", fresh("out"))
    good = {"distance": 719.0, "hour": 6, "carrier": "UA"}
    asyncio.run(publish(source, [orjson.dumps({"request_id": "a", **good}), b"not json"]))
    done = _cli(champion, "--source", source, "--sink", sink, "--idle-exit", "1", cwd=mloop_home)
    assert done.returncode == 0, done.stderr
    assert "1 scored, 0 duplicates, 1 dead letters (unparsable: 1)" in done.stdout
    [output] = asyncio.run(consume(sink, 1))
    assert orjson.loads(output)["id"] == "a"
