"""The compiled input transform gives scikit-learn's matrix bit for bit, or steps aside."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from mloop.serving.compiled import CompiledTransform, _Linear
from mloop.serving.runtime import ModelRuntime, model_arrays
from tests.serving.conftest import Flights, train

CARRIERS = ["AA", "B6", "DL", "UA", "WN"]


def frame_of(rows: int, seed: int, unknown: float = 0.0, nan: float = 0.0) -> pd.DataFrame:
    """Flights-like rows: a float, an int, two categorical columns (some values unseen)."""
    rng = np.random.default_rng(seed)
    distance = rng.choice([0.0, 200.0, 719.0, 1_416.5, 2_475.0], rows) + rng.normal(0, 50, rows)
    distance[rng.random(rows) < nan] = np.nan
    distance[rng.random(rows) < 0.1] = 0.0
    carrier = rng.choice(CARRIERS, rows).astype(object)
    carrier[rng.random(rows) < unknown] = "ZZ"
    return pd.DataFrame(
        {
            "distance": distance,
            "hour": rng.integers(5, 23, rows),
            "carrier": carrier,
            "origin": rng.choice(["EWR", "JFK", "LGA"], rows).astype(object),
        }
    )


def column_transformer(
    sparse: bool, with_mean: bool, with_std: bool, dense_encoder: bool, passthrough: bool
) -> ColumnTransformer:
    return ColumnTransformer(
        [
            (
                "codes",
                OneHotEncoder(handle_unknown="ignore", sparse_output=not dense_encoder),
                ["carrier", "origin"],
            ),
            ("numbers", StandardScaler(with_mean=with_mean, with_std=with_std), ["distance"]),
        ],
        remainder="passthrough" if passthrough else "drop",
        sparse_threshold=1.0 if sparse else 0.0,
    )


def same_matrix(got: Any, expected: Any) -> bool:
    if hasattr(expected, "tocsr"):
        return (
            type(got) is type(expected)
            and got.shape == expected.shape
            and np.array_equal(got.indptr, expected.indptr)
            and np.array_equal(got.indices, expected.indices)
            and np.array_equal(got.data, expected.data, equal_nan=True)
        )
    return got.dtype == expected.dtype and np.array_equal(got, expected, equal_nan=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    sparse=st.booleans(),
    with_mean=st.booleans(),
    with_std=st.booleans(),
    dense_encoder=st.booleans(),
    passthrough=st.booleans(),
    rows=st.integers(1, 40),
    seed=st.integers(0, 10_000),
    nan=st.sampled_from([0.0, 0.3]),
)
def test_the_compiled_transform_is_scikit_learns_matrix_bit_for_bit(
    sparse: bool,
    with_mean: bool,
    with_std: bool,
    dense_encoder: bool,
    passthrough: bool,
    rows: int,
    seed: int,
    nan: float,
) -> None:
    head = column_transformer(sparse, with_mean, with_std, dense_encoder, passthrough)
    head.fit(frame_of(500, seed + 1))
    fast = CompiledTransform.of(head, frame_of(5, seed + 2))
    assert fast is not None
    batch = frame_of(rows, seed, nan=nan)
    got = fast(batch)
    assert got is not None, "a batch of seen categories must take the compiled path"
    assert same_matrix(got, head.transform(batch))


@pytest.mark.parametrize(
    ("head", "columns"),
    [
        (StandardScaler(), ["distance", "hour"]),
        (OneHotEncoder(handle_unknown="ignore"), ["carrier", "origin"]),
        (OneHotEncoder(sparse_output=False), ["carrier"]),
        (ColumnTransformer([("codes", OneHotEncoder(), ["origin", "carrier"])]), CARRIERS[:0]),
    ],
    ids=["scaler", "encoder", "dense-encoder", "encoders-only"],
)
def test_a_bare_scaler_or_encoder_is_compiled_too(head: Any, columns: list[str]) -> None:
    data = frame_of(400, 1)
    data = data[columns] if columns else data
    head.fit(data)
    fast = CompiledTransform.of(head, data.head(5))
    assert fast is not None
    batch = frame_of(30, 2)[list(data.columns)]
    got = fast(batch)
    assert got is not None and same_matrix(got, head.transform(batch))


def test_the_compiled_pipeline_answers_what_the_pipeline_answers(flights: Flights) -> None:
    model = make_pipeline(
        column_transformer(True, True, True, False, True), LogisticRegression(max_iter=300)
    )
    data = frame_of(3_000, 7, nan=0.0)
    model.fit(data, (data["distance"] > 900).astype(int))
    fast = CompiledTransform.of(model[:-1], data.head(5))
    assert fast is not None
    batch = frame_of(1_000, 8)
    np.testing.assert_array_equal(model[-1].predict_proba(fast(batch)), model.predict_proba(batch))
    np.testing.assert_array_equal(model[-1].predict(fast(batch)), model.predict(batch))


@pytest.mark.parametrize("sparse", [True, False], ids=["sparse", "dense"])
@pytest.mark.parametrize(
    ("final", "target"),
    [
        (LogisticRegression(max_iter=300), "binary"),
        (LogisticRegression(max_iter=300), "three"),
        (LinearRegression(), "number"),
        (Ridge(alpha=0.5), "number"),
    ],
    ids=["logistic", "multinomial", "linear", "ridge"],
)
def test_a_linear_final_step_is_compiled_bit_for_bit(final: Any, target: str, sparse: bool) -> None:
    data = frame_of(2_000, 11)
    distance = data["distance"].fillna(0.0)
    y = {
        "binary": (distance > 900).astype(int),
        "three": np.digitize(distance, [500, 1_500]),
        "number": distance / 100 + data["hour"],
    }[target]
    model = make_pipeline(column_transformer(sparse, True, True, False, True), final).fit(data, y)
    fast = CompiledTransform.of(model[:-1], data.head(5), final=model[-1])
    assert fast is not None
    for seed in range(5):
        batch = frame_of(1 + 37 * seed, seed)
        output = fast.final_output(fast(batch))
        assert output is not None, "a checked linear step must take the compiled path"
        expected = model.predict(batch) if target == "number" else model.predict_proba(batch)
        assert output.dtype == expected.dtype and output.shape == expected.shape
        np.testing.assert_array_equal(output, expected)
        # from the matrix's entries, without building it: sparse only (a dense product's
        # sums follow BLAS's order, not the row's)
        direct = fast.answer(batch)
        if not sparse:
            assert direct is None
            continue
        assert direct is not None, "a checked sparse product must take the entries path"
        assert direct.dtype == expected.dtype and direct.shape == expected.shape
        np.testing.assert_array_equal(direct, expected)
    with_nan = frame_of(20, 9, nan=0.5)  # refused by the model's validation: left to it
    assert fast.final_output(fast(with_nan)) is None
    assert fast.answer(with_nan) is None
    if sparse and target != "three":  # a few rows: one by one in Python floats, same bits
        assert fast._rows is not None and all(fast._by_row.values())
        rows_path, calls = fast._rows, []
        fast._rows = lambda columns, n: calls.append(n) or rows_path(columns, n)  # type: ignore[assignment]
        for rows in range(1, 41):  # every size: a sparse product is the same for each
            batch = frame_of(rows, 100 + rows)
            expected = model.predict(batch) if target == "number" else model.predict_proba(batch)
            np.testing.assert_array_equal(fast.answer(batch), expected, err_msg=f"{rows} rows")
        assert calls == list(range(1, 33))  # from 33 rows: numpy's turn
        extreme = frame_of(4, 7).assign(distance=[1e300, -1e300, 5e-324, -0.0])
        expected = model.predict(extreme) if target == "number" else model.predict_proba(extreme)
        np.testing.assert_array_equal(fast.answer(extreme), expected)
        assert fast.answer(frame_of(3, 5, nan=1.0)) is None
        assert fast.answer(frame_of(3, 5, unknown=1.0)) is None
    else:  # softmax is numpy's (its exp is not the C library's); dense sums are BLAS's
        assert fast._rows is None or not any(fast._by_row.values())
    with pytest.raises(ValueError, match="NaN"):
        model.predict(with_nan)


@pytest.mark.parametrize(
    ("model", "target"),
    [
        (LogisticRegression(max_iter=500), "binary"),
        (LogisticRegression(max_iter=500), "three"),
        (LinearRegression(), "number"),
    ],
    ids=["logistic", "multinomial", "linear"],
)
def test_a_bare_linear_model_is_compiled_on_its_columns_bit_for_bit(
    model: Any, target: str
) -> None:
    data = frame_of(2_000, 5)[["distance", "hour"]].fillna(0.0)
    y = {
        "binary": (data["distance"] > 900).astype(int),
        "three": np.digitize(data["distance"], [500, 1_500]),
        "number": data["distance"] / 100 + data["hour"],
    }[target]
    model.fit(data, y)
    fast = CompiledTransform.of(None, data.head(5), final=model)
    assert fast is not None and fast.bare
    # every batch size: BLAS's kernels round a row by the size of its batch (fused
    # multiply-adds on blocks of rows), so five probing rows agreeing proves nothing for 24
    for rows in [*range(1, 65), 300]:
        batch = frame_of(rows, rows)[["distance", "hour"]].fillna(1.5)
        columns = {name: batch[name].to_numpy() for name in batch.columns}
        expected = model.predict(batch) if target == "number" else model.predict_proba(batch)
        for source in (batch, columns):
            output = fast.final_output(fast(source))
            assert output is not None, "a checked bare model must take the compiled path"
            assert output.dtype == expected.dtype
            np.testing.assert_array_equal(output, expected, err_msg=f"{rows} rows")
            assert fast.answer(source) is None  # never row by row: the product is BLAS's
    assert fast.final_output(fast(frame_of(9, 1)[["distance", "hour"]].assign(hour=np.nan))) is None


def test_a_bare_model_it_does_not_repeat_is_not_compiled() -> None:
    data = frame_of(300, 5)[["distance", "hour"]].fillna(0.0)
    forest = RandomForestClassifier(n_estimators=3, random_state=0)
    forest.fit(data, data["hour"] > 12)
    assert CompiledTransform.of(None, data.head(5), final=forest) is None
    unnamed = LogisticRegression().fit(data.to_numpy(), data["hour"] > 12)  # no column names
    assert CompiledTransform.of(None, data.head(5), final=unnamed) is None


def test_a_final_step_that_answers_otherwise_is_never_used() -> None:
    data = frame_of(1_000, 3)
    model = make_pipeline(
        column_transformer(True, True, True, False, False), LogisticRegression(max_iter=300)
    ).fit(data, (data["distance"].fillna(0) > 900).astype(int))
    fast = CompiledTransform.of(model[:-1], data.head(5), final=model[-1])
    assert fast is not None
    fast.final = _Linear(model[-1], "softmax")  # wrong for two classes: the check sees it
    matrix = fast(frame_of(10, 4))
    assert matrix is not None and fast.final_output(matrix) is None
    unfit = make_pipeline(StandardScaler(), FunctionTransformer()).fit(data[["distance"]])
    assert CompiledTransform.of(unfit[:-1], data[["distance"]].head(3), unfit[-1]).final is None


def test_columns_as_arrays_give_the_matrix_their_dataframe_gives() -> None:
    """The serving path hands over the request's columns (numbers as numpy arrays, text as
    lists) without building a DataFrame; the matrix is the DataFrame's, bit for bit."""
    head = column_transformer(True, True, True, False, True).fit(frame_of(500, 1))
    fast = CompiledTransform.of(head, frame_of(5, 2))
    assert fast is not None
    batch = frame_of(25, 3, nan=0.2)
    columns = {
        name: batch[name].tolist() if batch[name].dtype == object else batch[name].to_numpy()
        for name in batch.columns
    }
    got = fast(columns)
    assert got is not None and same_matrix(got, head.transform(pd.DataFrame(columns)))
    assert fast({**columns, "carrier": ["ZZ", *columns["carrier"][1:]]}) is None  # unseen
    assert fast({**columns, "carrier": [None, *columns["carrier"][1:]]}) is None  # missing
    assert fast({k: columns[k] for k in reversed(list(columns))}) is None  # other order
    text = {**columns, "distance": batch["distance"].tolist()}  # numbers as a list: not taken
    assert fast(text) is None


def test_a_batch_it_cannot_vouch_for_goes_to_scikit_learn() -> None:
    head = column_transformer(True, True, True, False, False).fit(frame_of(500, 1))
    fast = CompiledTransform.of(head, frame_of(5, 2))
    assert fast is not None
    assert fast(frame_of(20, 3, unknown=0.5)) is None  # unseen categories
    with_none = frame_of(20, 3).astype({"carrier": object})
    with_none.loc[4, "carrier"] = None
    assert fast(with_none) is None  # a missing category
    assert fast(frame_of(20, 3)[["hour", "distance", "carrier", "origin"]]) is None  # order
    narrower = frame_of(20, 3).astype({"distance": "float32"})
    got = fast(narrower)  # other dtypes: checked against scikit-learn anew, then used
    assert ("frame", *(str(d) for d in narrower.dtypes)) in fast._checked
    assert got is not None and same_matrix(got, head.transform(narrower))


@pytest.mark.parametrize(
    "head",
    [
        ColumnTransformer([("log", FunctionTransformer(np.abs), ["distance"])]),
        ColumnTransformer([("codes", OneHotEncoder(drop="first"), ["carrier"])]),
        ColumnTransformer([("codes", OneHotEncoder(min_frequency=5), ["carrier"])]),
        make_pipeline(StandardScaler(), StandardScaler()),
    ],
    ids=["function", "drop-first", "infrequent", "two-steps"],
)
def test_transforms_it_does_not_repeat_are_left_to_scikit_learn(head: Any) -> None:
    data = frame_of(200, 1)[["distance", "carrier"]]
    if not isinstance(head, ColumnTransformer):
        data = data[["distance"]]
    head.fit(data)
    assert CompiledTransform.of(head, data.head(5)) is None


def test_a_transform_that_answers_otherwise_is_never_used() -> None:
    """``set_output(transform="pandas")`` makes scikit-learn answer a DataFrame: the
    check before the first batch sees the difference and turns the compiled path off."""
    head = column_transformer(False, True, True, True, False).set_output(transform="pandas")
    head.fit(frame_of(300, 1))
    fast = CompiledTransform.of(head, frame_of(5, 2))
    assert fast is not None and fast(frame_of(10, 3)) is None


def test_a_served_pipeline_runs_compiled_with_the_same_answers(
    flights: Flights, mloop_home: object
) -> None:
    version = train(flights)
    runtime = ModelRuntime(f"models:/delays/{version}")
    runtime.load()
    current = runtime._current
    assert current is not None and current.transform is not None
    checked = current.transform._checked  # at warm-up: the example as a frame and as columns
    assert len(checked) == 2 and set(checked.values()) == {scipy.sparse.csr_matrix}
    assert list(current.transform._final_checked.values()) == [True]
    batch = flights.test.head(300)
    native = current.model.native
    columns = {name: batch[name].to_numpy() for name in batch.columns}
    columns["carrier"] = batch["carrier"].tolist()
    for source in (batch, columns):
        arrays, _ = runtime.predict_arrays(source)
        np.testing.assert_array_equal(arrays["proba"], native.predict_proba(batch)[:, 1])
        np.testing.assert_array_equal(arrays["prediction"], native.predict(batch))
    assert all(current.transform._by_row.values())  # a few rows: in Python floats
    for rows in (1, 3):
        few = {name: values[:rows] for name, values in columns.items()}
        arrays, _ = runtime.predict_arrays(few)
        np.testing.assert_array_equal(arrays["proba"], native.predict_proba(batch[:rows])[:, 1])
        np.testing.assert_array_equal(arrays["prediction"], native.predict(batch[:rows]))
    unseen = batch.assign(carrier="ZZ")  # left to scikit-learn: same answers as ever
    arrays = model_arrays(current.model, unseen, True, runtime.uri, current.transform)
    np.testing.assert_array_equal(arrays["proba"], native.predict_proba(unseen)[:, 1])


def test_tied_probabilities_are_predicted_by_the_model_itself(
    flights: Flights, mloop_home: object
) -> None:
    """With every coefficient zero, both classes have probability 0.5 on every row: the
    answer from the entries cannot say which class wins, so the final step's ``predict``
    decides, on the matrix built for those rows only then."""
    version = train(flights)
    runtime = ModelRuntime(f"models:/delays/{version}")
    runtime.load()
    current = runtime._current
    assert current is not None and current.transform is not None
    native = current.model.native
    final = native[-1]
    final.coef_ = np.zeros_like(final.coef_)
    final.intercept_ = np.zeros_like(final.intercept_)
    asked: list[Any] = []

    def predict(matrix: Any) -> Any:  # stands for a tie-break other than the arg-max
        asked.append(matrix)
        return np.full(matrix.shape[0], final.classes_[1])

    final.predict = predict
    batch = flights.test.head(50)
    columns = {name: batch[name].to_numpy() for name in batch.columns}
    columns["carrier"] = batch["carrier"].tolist()
    assert current.transform.answer(columns) is not None  # the entries path is taken
    arrays = model_arrays(current.model, columns, True, runtime.uri, current.transform)
    np.testing.assert_array_equal(arrays["proba"], np.full(50, 0.5))
    np.testing.assert_array_equal(arrays["prediction"], np.full(50, final.classes_[1]))
    assert len(asked) == 1 and same_matrix(asked[0], native[:-1].transform(batch))


def test_a_served_bare_linear_model_runs_compiled_with_the_same_answers(
    flights: Flights, mloop_home: object
) -> None:
    import mloop

    numbers = flights.train[["distance", "hour"]]
    model = LogisticRegression(max_iter=300).fit(numbers, flights.target)
    with mloop.start_run():
        info = mloop.log_model(
            model, "model", registered_model_name="bare", input_example=numbers.head(3)
        )
    assert info.registered_model_version is not None
    runtime = ModelRuntime(f"models:/bare/{info.registered_model_version.version}")
    runtime.load()
    current = runtime._current
    assert current is not None and current.transform is not None and current.transform.bare
    batch = flights.test[["distance", "hour"]].head(200)
    columns = {name: batch[name].to_numpy() for name in batch.columns}
    arrays, _ = runtime.predict_arrays(columns)
    assert list(current.transform._final_checked.values()) == [True]
    np.testing.assert_array_equal(arrays["proba"], model.predict_proba(batch)[:, 1])
    np.testing.assert_array_equal(arrays["prediction"], model.predict(batch))
