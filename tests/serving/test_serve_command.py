"""``mloop serve`` checks its models before it binds a port: a bad one is a one-line error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.serving.conftest import Flights, train


@pytest.mark.parametrize("workers", ["1", "2"])
@pytest.mark.parametrize(
    ("target", "message"),
    [
        (
            "models:/delay@champion",
            "registered model 'delay' does not exist. Did you mean 'delays'?",
        ),
        (
            "models:/delays@champio",
            "model 'delays' has no alias 'champio'. Did you mean 'champion'?",
        ),
    ],
)
def test_serve_names_a_missing_model_or_alias_in_one_line_before_binding_the_port(
    mloop_home: Path, flights: Flights, target: str, message: str, workers: str
) -> None:
    from mloop.registry import set_alias

    set_alias("delays", "champion", train(flights))
    done = subprocess.run(
        [sys.executable, "-m", "mloop", "serve", target, "--port", "1", "--workers", workers],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr and "startup failed" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
