"""Evaluation results and model cards render in a notebook: compact, escaped, offline."""

from __future__ import annotations

from typing import Any

import pandas as pd

import mloop
from mloop.evaluation import ModelCard, evaluate, model_card
from tests.evaluation.conftest import FEATURES


def test_an_evaluation_shows_its_metrics_against_the_baseline(
    split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any, weak_model: Any
) -> None:
    _, test = split
    result = evaluate(
        good_model,
        test[[*FEATURES, "late"]],
        target="late",
        baseline=_Month(weak_model),
        log=False,
        plots=False,
        name="<script>alert(1)</script>",
        primary_metric="roc_auc",
    )
    html = result._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<b>task</b>: classification" in html and f"<b>rows</b>: {len(test):,}" in html
    assert f">{result.metrics['roc_auc']:.4g}<" in html
    assert ">baseline</th>" in html and ">better<" in html  # the good model beats the month
    assert ">roc_auc ★<" in html


class _Month:
    """The weak model, fed the month column only (evaluate passes every feature column)."""

    def __init__(self, model: Any) -> None:
        self.model = model
        self.classes_ = model.classes_

    def predict(self, frame: pd.DataFrame) -> Any:
        return self.model.predict(frame[["month"]])

    def predict_proba(self, frame: pd.DataFrame) -> Any:
        return self.model.predict_proba(frame[["month"]])


def test_a_model_card_is_a_str_shown_in_a_sandboxed_frame(
    split: tuple[pd.DataFrame, pd.DataFrame], weak_model: Any
) -> None:
    with mloop.start_run():
        mloop.log_model(weak_model, "model", registered_model_name="bare")
    card = model_card("bare")
    assert isinstance(card, ModelCard) and isinstance(card, str)
    assert card.startswith("<!doctype html>") or "<html" in card[:200]
    html = card._repr_html_()
    assert html is not None and html.startswith('<iframe sandbox=""')
    assert "<html" not in html and "No evaluation is recorded" in html
    markdown = model_card("bare", format="md")
    assert markdown._repr_html_() is None
    assert markdown._repr_markdown_() == str(markdown) and "bare" in markdown
