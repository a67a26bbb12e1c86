"""System tags: mloop records ``mloop.*`` names and accepts MLflow's ``mlflow.*`` ones.

``set_tag("mlflow.runName", "x")`` renames the run and a filter on
``tags.`mlflow.parentRunId``` finds children, as in MLflow: each MLflow name below is
stored and searched as its mloop name.
"""

from __future__ import annotations

RUN_NAME = "mloop.runName"
PARENT_RUN_ID = "mloop.parentRunId"
NOTE = "mloop.note.content"

MLFLOW_NAMES = {
    "mlflow.runName": RUN_NAME,
    "mlflow.parentRunId": PARENT_RUN_ID,
    "mlflow.user": "mloop.user",
    "mlflow.source.name": "mloop.source.name",
    "mlflow.note.content": NOTE,
    "mlflow.source.git.commit": "mloop.source.git.commit",
    "mlflow.source.git.branch": "mloop.source.git.branch",
}


def canonical(key: str) -> str:
    """The name a tag is stored under: MLflow's system tag names become mloop's."""
    return MLFLOW_NAMES.get(key, key)
