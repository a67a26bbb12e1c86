"""Load models in a fresh Python process, in another folder, as another host would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pandas as pd

_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import pandas as pd
    import mloop
    frame = pd.read_parquet(sys.argv[1])
    answers = {}
    for uri in json.loads(sys.argv[2]):
        model = mloop.load_model(uri)
        answers[uri] = [model.flavor, pd.DataFrame(model.predict(frame)).to_numpy().tolist()]
    print(json.dumps(answers))
    """
)


def predict_in_fresh_process(
    home: Path, cwd: Path, uris: list[str], frame: pd.DataFrame
) -> dict[str, tuple[str, Any]]:
    """``{uri: (flavor, predictions as nested lists)}`` from a new interpreter in ``cwd``."""
    env = {**os.environ, "MLOOP_HOME": str(home)}
    env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
    frame.to_parquet(cwd / "rows.parquet")
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, "rows.parquet", json.dumps(uris)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout.strip().splitlines()[-1])
    return {uri: (flavor, values) for uri, (flavor, values) in answers.items()}
