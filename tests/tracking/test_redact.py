"""Secrets never reach ``mloop.source.command``."""

from __future__ import annotations

import sys

import pytest

import mloop
from mloop.tracking.redact import mask_argv, mask_command


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (
            ["train.py", "--api-key", "sk-live-4eC39HqLyjWDarjtT1zdp7dc", "--epochs", "3"],
            ["train.py", "--api-key", "***", "--epochs", "3"],
        ),
        (["train.py", "--password=x", "--lr=0.1"], ["train.py", "--password=***", "--lr=0.1"]),
        (
            ["train.py", "--db", "postgresql://u:pw@h/db"],
            ["train.py", "--db", "postgresql://u:***@h/db"],
        ),
        (
            ["job", "--url=postgresql+psycopg://ml:s3cr%40t@db.internal:5432/mloop"],
            ["job", "--url=postgresql+psycopg://ml:***@db.internal:5432/mloop"],
        ),
        (["run.py", "HF_TOKEN=hf_abc", "n=3"], ["run.py", "HF_TOKEN=***", "n=3"]),
        (
            ["run.py", "--aws-secret-access-key", "abc/def"],
            ["run.py", "--aws-secret-access-key", "***"],
        ),
        (["run.py", "--token", "--verbose"], ["run.py", "--token", "--verbose"]),
        (["run.py", "ghp_" + "a1" * 18], ["run.py", "***"]),
        (["run.py", "--key-id", "AKIAIOSFODNN7EXAMPLE"], ["run.py", "--key-id", "***"]),
        (
            ["run.py", "--monkey", "banana", "--keys", "3"],
            ["run.py", "--monkey", "banana", "--keys", "3"],
        ),
        (["run.py", "https://example.com/data.csv"], ["run.py", "https://example.com/data.csv"]),
    ],
)
def test_secret_values_are_masked_and_the_rest_kept(argv: list[str], expected: list[str]) -> None:
    assert mask_argv(argv) == expected


def test_a_run_records_its_command_with_the_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(
        sys,
        "argv",
        [
            "train.py",
            "--api-key",
            "sk-live-51Habc0123456789",
            "--password=hunter2",
            "--db",
            "postgresql://u:pw@h/db",
            "--depth",
            "8",
        ],
    )
    with mloop.start_run(log_system_info=False) as run:
        pass
    command = mloop.get_run(run.info.run_id).data.tags["mloop.source.command"]
    assert command == "train.py --api-key *** --password=*** --db postgresql://u:***@h/db --depth 8"
    assert "sk-live" not in command and "hunter2" not in command and ":pw@" not in command
    assert mask_command(["a", "b"]) == "a b"
