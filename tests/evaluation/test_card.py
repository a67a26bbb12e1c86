"""Model cards: every section from recorded evidence, HTML and Markdown, the CLI, a real browser."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import mloop
from mloop.cli.main import app
from mloop.core.errors import InvalidInput, NotFound
from mloop.evaluation import Gate, evaluate, explain, fairness, model_card, rules
from tests.evaluation.conftest import FEATURES

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
def documented(split: tuple[pd.DataFrame, pd.DataFrame], good_model: Any) -> pd.DataFrame:
    """delays/1 trained on a registered dataset, evaluated and gated; returns the test rows."""
    train, test = split
    dataset = mloop.data.register("flights-train", train)
    with mloop.start_run(run_name="train-delays"):
        mloop.log_params({"C": 1.0, "features": ",".join(FEATURES)})
        mloop.log_input(dataset, context="training")
        mloop.log_metric("train_roc_auc", 0.9)
        mloop.log_model(
            good_model, "model", registered_model_name="delays", input_example=test[FEATURES].head()
        )
    mloop.registry.set_version_tag("delays", 1, "intended_use", "Warn passengers of likely delays.")
    evaluate(
        "models:/delays/1",
        test,
        target="late",
        slices=["origin", "carrier"],
        sensitive="origin",
        plots=False,
    )
    Gate([rules.min_metric("roc_auc", 0.7)], name="delay-gate").check(
        "models:/delays/1", data=test, target="late"
    )
    return test


def test_the_card_shows_every_section_from_recorded_evidence(documented: pd.DataFrame) -> None:
    html = model_card("delays/1")
    for heading in (
        "Intended use",
        "Training",
        "Training data and lineage",
        "Evaluation",
        "Validation gate",
        "Signature",
    ):
        assert f">{heading}</h2>" in html
    assert "Warn passengers of likely delays." in html
    assert "flights-train@1" in html and "training" in html  # the training data and its role
    assert "train-delays" in html and "train_roc_auc" in html  # the training run
    assert "roc_auc" in html and "JFK" in html  # metrics and slices
    assert "demographic_parity_difference" in html  # fairness
    assert "delay-gate" in html and "PASSED" in html  # the gate's verdict
    assert "dep_delay" in html and "double" in html  # the signature
    assert html.count("data:image/png;base64,") >= 4  # ROC, PR, calibration, confusion, slices
    assert "https://" not in html and "http://" not in html  # opens offline


def test_markdown_card_and_explicit_evidence(documented: pd.DataFrame, good_model: Any) -> None:
    importance = explain(good_model, documented.head(800), target="late", n_repeats=2)
    by_carrier = fairness(good_model, documented, target="late", sensitive="carrier")
    text = model_card(
        "models:/delays/1",
        format="md",
        path="card.md",
        explanation=importance,
        fairness=by_carrier,
        limitations="Trained on 2013 flights from New York only.",
    )
    assert Path("card.md").read_text() == text
    assert text.startswith("# Model card: `delays` version 1")
    assert "## Feature importance" in text and "| dep_delay |" in text
    assert "## Fairness by carrier" in text
    assert "Trained on 2013 flights from New York only." in text
    assert "| min_metric(roc_auc) | pass |" in text


def test_a_version_without_evidence_says_what_is_missing(
    split: tuple[pd.DataFrame, pd.DataFrame], weak_model: Any
) -> None:
    with mloop.start_run():
        mloop.log_model(weak_model, "model", registered_model_name="bare")
    html = model_card("bare")
    assert "No evaluation is recorded" in html
    assert "No gate has checked this version" in html
    assert "Not stated." in html
    assert "no signature" in html
    with pytest.raises(InvalidInput, match="card format 'pdf' is unknown"):
        model_card("bare/1", format="pdf")
    with pytest.raises(NotFound, match="model 'bare' has no alias 'champion'"):
        model_card("bare@champion")


def test_cli_writes_the_card(documented: pd.DataFrame) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["models", "card", "delays/1"])
    assert result.exit_code == 0, result.output
    assert Path("delays-v1-card.html").read_text().startswith("<!doctype html>")
    result = runner.invoke(app, ["models", "card", "delays@latest", "--format", "md", "--out", "-"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("# Model card: `delays` version 1")


@pytest.mark.browser
def test_the_html_card_renders_offline_in_chromium(documented: pd.DataFrame) -> None:
    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing; install it with apt-get install -y chromium"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    path = Path("card.html").resolve()
    model_card("delays/1", path=path)
    requested: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page()
            page.on("request", lambda request: requested.append(request.url))
            page.goto(path.as_uri())
            page.wait_for_load_state("load")
            headings = page.locator("h2").all_inner_texts()
            images = page.eval_on_selector_all(
                "img", "els => els.map(e => [e.complete, e.naturalWidth, e.naturalHeight])"
            )
            gate = page.locator("#gate + p .pass").inner_text()
            first_slice = page.locator("h3:has-text('Slices') + table tbody tr").first.inner_text()
        finally:
            browser.close()
    assert headings[:3] == ["Intended use", "Training", "Training data and lineage"]
    assert "Validation gate" in headings and "Signature" in headings
    assert len(images) >= 4
    assert all(done and width > 100 and height > 100 for done, width, height in images)
    assert gate == "PASSED"
    assert first_slice.split()[0] in ("origin", "carrier")
    assert all(url.startswith(("file:", "data:")) for url in requested), requested
