"""Whatever JSON a client sends, the prediction and feedback routes answer 2xx or 4xx: never
a 5xx.

Property tests (hypothesis) over arbitrary JSON, and over bodies shaped like the model's
input with arbitrary values in its fields (numbers far outside every type's range among
them), sent over HTTP to a running server with its prediction log on.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mloop.core.errors import InvalidInput
from mloop.registry import set_alias
from mloop.server.serving import create_app
from mloop.serving import Limits
from tests.serving.conftest import FEATURES, Flights, running, train

JSON = {"content-type": "application/json"}
EDGES = [
    10**30,
    -(10**30),
    2**63,
    2**63 - 1,
    -(2**63) - 1,
    2**64 - 1,
    2**31,
    1e308,
    -1e308,
    1e30,
    5e-324,
    -0.0,
]
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from(EDGES)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
numbers = st.integers() | st.sampled_from(EDGES) | st.floats(allow_nan=False, allow_infinity=False)
fields = {  # mostly the field's own kind (so a body reaches every check), sometimes anything
    "distance": numbers | values,
    "hour": numbers | values,
    "carrier": st.sampled_from(["UA", "AA", ""]) | values,
}
rows = st.fixed_dictionaries(
    {"distance": fields["distance"]},
    optional={"hour": fields["hour"], "carrier": fields["carrier"]},
) | st.fixed_dictionaries(fields)
shaped = st.one_of(
    st.fixed_dictionaries({"records": st.lists(rows, min_size=1, max_size=4)}),
    st.fixed_dictionaries({"dataframe_records": st.lists(rows, min_size=1, max_size=4)}),
    st.fixed_dictionaries(
        {
            "dataframe_split": st.fixed_dictionaries(
                {
                    "columns": st.just(FEATURES),
                    "data": st.lists(
                        st.lists(values, min_size=3, max_size=3), min_size=1, max_size=4
                    ),
                }
            )
        }
    ),
    st.fixed_dictionaries(
        {"instances": st.lists(st.tuples(*fields.values()).map(list), min_size=1, max_size=3)}
    ),
    st.fixed_dictionaries({"inputs": st.fixed_dictionaries(fields)}),
)
bodies = st.one_of(shaped, values, st.dictionaries(st.text(max_size=10), values, max_size=4))


@pytest.fixture(scope="module")
def client(shared_home: Path, flights: Flights) -> Iterator[httpx.Client]:
    set_alias("delays", "champion", train(flights))
    app = create_app("models:/delays@champion", limits=Limits(max_body_bytes=20_000), watch=False)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
        yield http


def _encode(body: Any) -> bytes:
    # Python's json writes integers of any size (orjson would refuse those over 64 bits)
    return json.dumps(body).encode()


@pytest.mark.parametrize("path", ["/v1/models/delays/predict", "/invocations"])
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=bodies)
def test_any_json_body_gets_an_answer_below_500(client: httpx.Client, path: str, body: Any) -> None:
    response = client.post(path, content=_encode(body), headers=JSON)
    assert response.status_code < 500, (body, response.text)
    if response.status_code >= 400:
        assert response.json()["message"]  # a 4xx names the problem


feedback = st.one_of(
    values,
    st.fixed_dictionaries(
        {"request_id": st.text(max_size=8) | values, "label": numbers | values},
        optional={"ts": numbers | values, "model": st.just("delays") | values},
    ),
    st.fixed_dictionaries(
        {
            "request_ids": st.lists(st.text(min_size=1, max_size=8), max_size=3) | values,
            "labels": st.lists(numbers | values, max_size=3) | values,
        },
        optional={"ts": st.lists(numbers | values, max_size=3) | values},
    ),
)


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=feedback)
def test_any_feedback_body_gets_an_answer_below_500(client: httpx.Client, body: Any) -> None:
    response = client.post("/v1/feedback", content=_encode(body), headers=JSON)
    assert response.status_code < 500, (body, response.text)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hour", 10**30, "field 'hour' expects long but row 0 holds 1.000e+30, outside the range"),
        ("hour", 2**64 - 1, "outside the range of a long"),
        ("hour", -(10**20), "outside the range of a long"),
        ("hour", 1e300, "outside the range of a long"),
    ],
)
def test_a_number_outside_its_type_is_a_422_naming_field_and_value(
    client: httpx.Client, field: str, value: Any, message: str
) -> None:
    row: dict[str, Any] = {"distance": 100.0, "hour": 6, "carrier": "UA", field: value}
    response = client.post(
        "/v1/models/delays/predict", content=_encode({"records": [row]}), headers=JSON
    )
    assert response.status_code == 422, response.text
    assert message in response.json()["message"]


def test_the_edges_of_a_long_are_served(client: httpx.Client) -> None:
    for value in (2**63 - 1, -(2**63)):
        row = {"distance": 100.0, "hour": value, "carrier": "UA"}
        response = client.post("/v1/models/delays/predict", json={"records": [row]})
        assert response.status_code == 200, response.text
        assert response.json()["predictions"][0] in (0, 1)


def test_a_decoded_body_with_an_int_beyond_any_float_is_a_422() -> None:
    """In-process callers pass Python objects: an int of 400 digits has no float64."""
    from mloop.registry import ColSpec, Signature
    from mloop.serving.payload import parse
    from mloop.serving.validation import validate

    signature = Signature((ColSpec("distance", "double"), ColSpec("code", "category")))
    with pytest.raises(InvalidInput, match="field 'distance' expects double but row 1 holds"):
        validate(
            parse({"records": [{"distance": 1, "code": 1}, {"distance": 10**400, "code": 2}]}),
            signature,
        )
    with pytest.raises(InvalidInput, match="field 'code' expects category but row 0 holds"):
        validate(parse({"records": [{"distance": 1.5, "code": 2**64}]}), signature)
    checked = validate(
        parse({"records": [{"distance": 1.5, "code": "a"}, {"distance": 2, "code": 7}]}), signature
    )
    assert checked.data == {"distance": [1.5, 2], "code": ["a", 7]}
