"""Table previews and per-column statistics, checked against plain pandas and numpy; per-class
curves of multiclass scored tables, checked against scikit-learn."""
from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from designer.engine.table_views import HISTOGRAM_BINS, column_statistics
from designer.tables.previews import PreviewError, class_curves, table_preview
from modules.sdk.artifacts import write_table
from modules.sdk.schema import roles_of, set_roles


def table() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n = 200
    df = pd.DataFrame({
        "price": rng.normal(10_000, 2_500, n).round(2),
        "doors": rng.integers(2, 5, n),
        "make": rng.choice(["audi", "bmw", "fiat", "saab"], n),
        "electric": rng.choice([True, False], n),
        "sold": pd.date_range("2024-01-01", periods=n, freq="D"),
    })
    df.loc[::7, "price"] = np.nan
    df.loc[::11, "make"] = None
    return set_roles(df, {"price": "label"})


@pytest.fixture
def stored(tmp_path):
    def store(df: pd.DataFrame):
        write_table(df, tmp_path / "t")
        return tmp_path / "t"

    return store


def test_numeric_statistics_match_pandas():
    series = table()["price"]
    stats = column_statistics(series)
    assert stats["type"] == "numeric"
    assert stats["count"] == series.count()
    assert stats["missing"] == series.isna().sum()
    assert stats["unique"] == series.nunique()
    assert stats["min"] == series.min() and stats["max"] == series.max()
    assert stats["mean"] == pytest.approx(series.mean())
    assert stats["std"] == pytest.approx(series.std())
    counts, edges = np.histogram(series.dropna(), bins=HISTOGRAM_BINS)
    assert stats["histogram"]["counts"] == counts.tolist()
    assert stats["histogram"]["edges"] == pytest.approx(edges.tolist())
    assert stats["top_values"] == []


def test_integer_columns_are_numeric_too():
    series = table()["doors"]
    stats = column_statistics(series)
    assert (stats["min"], stats["max"], stats["unique"]) == (series.min(), series.max(), series.nunique())
    assert sum(stats["histogram"]["counts"]) == len(series)


def test_text_statistics_match_pandas():
    series = table()["make"]
    stats = column_statistics(series)
    assert stats["type"] == "string"
    assert (stats["count"], stats["missing"], stats["unique"]) == (
        series.count(), series.isna().sum(), series.nunique())
    expected = series.value_counts().head(10)
    assert stats["top_values"] == [{"value": k, "count": int(v)} for k, v in expected.items()]
    assert stats["histogram"] is None and stats["mean"] is None


def test_boolean_and_datetime_columns():
    df = table()
    flags = column_statistics(df["electric"])
    assert flags["type"] == "boolean"
    assert {t["value"]: t["count"] for t in flags["top_values"]} == df["electric"].value_counts().to_dict()
    dates = column_statistics(df["sold"])
    assert dates["type"] == "datetime"
    assert pd.Timestamp(dates["min"]) == df["sold"].min() and pd.Timestamp(dates["max"]) == df["sold"].max()


def test_awkward_columns_stay_json():
    cases = {
        "all missing": pd.Series([np.nan, np.nan], name="x"),
        "one value": pd.Series([3.0], name="x"),
        "infinities": pd.Series([1.0, np.inf, -np.inf, 2.0], name="x"),
        "lists": pd.Series([[1], [1], None, [2]], name="x", dtype=object),
        "mixed": pd.Series([1, "a", None, 2.5], name="x", dtype=object),
        "empty": pd.Series([], name="x", dtype=float),
    }
    for case, series in cases.items():
        stats = column_statistics(series)
        json.dumps(stats, allow_nan=False)  # raises on NaN or infinity
        assert stats["count"] + stats["missing"] == len(series), case
    assert column_statistics(cases["one value"])["std"] is None
    infinite = column_statistics(cases["infinities"])
    assert infinite["max"] is None and sum(infinite["histogram"]["counts"]) == 2
    assert column_statistics(cases["lists"])["unique"] == 2


def test_preview_pages_match_pandas(stored):
    df = table()
    preview = table_preview(folder=stored(df), offset=20, limit=15)
    expected = json.loads(df.iloc[20:35].to_json(orient="values", date_format="iso"))
    assert preview["rows"] == expected
    assert preview["total_rows"] == len(df) and preview["offset"] == 20 and preview["limit"] == 15
    assert [c["name"] for c in preview["columns"]] == list(df.columns)
    assert preview["columns"][0]["role"] == "label"
    # Statistics describe the whole table, whichever page is shown.
    assert preview["columns"][0]["count"] == df["price"].count()
    json.dumps(preview, allow_nan=False)


@pytest.mark.parametrize("sort", ["price", "-price", "make", "-sold"])
def test_sorting_matches_pandas(stored, sort):
    df = table()
    column = sort.lstrip("-")
    preview = table_preview(folder=stored(df), sort=sort, limit=50)
    ordered = df.sort_values(column, ascending=not sort.startswith("-"), kind="stable", na_position="last")
    assert preview["rows"] == json.loads(ordered.iloc[:50].to_json(orient="values", date_format="iso"))


def test_unorderable_cells_sort_by_their_text(stored):
    df = pd.DataFrame({"x": [{"k": "b"}, {"k": "a"}, {"k": "c"}]})  # Parquet structs: dicts can't be compared
    assert [r[0]["k"] for r in table_preview(folder=stored(df), sort="x")["rows"]] == ["a", "b", "c"]


def test_bad_requests(stored):
    folder = stored(table())
    with pytest.raises(PreviewError, match="no column 'ghost'"):
        table_preview(folder=folder, sort="ghost")
    for offset, limit in ((-1, 10), (0, 0), (0, 10_000)):
        with pytest.raises(PreviewError):
            table_preview(folder=folder, offset=offset, limit=limit)
    assert table_preview(folder=folder, offset=10_000)["rows"] == []


def test_statistics_follow_the_stored_file(stored):
    """Statistics are kept per stored table; a different file in the same place (a path reused,
    as a test or an operator might) is described afresh, never with the earlier file's numbers."""
    first = table_preview(folder=stored(table()))["columns"][0]
    assert table_preview(folder=stored(table()), offset=100)["columns"][0] == first
    smaller = table().iloc[:50]
    after = table_preview(folder=stored(smaller))
    assert after["total_rows"] == 50
    assert after["columns"][0]["count"] == smaller["price"].count() != first["count"]


def test_an_empty_table(stored):
    preview = table_preview(folder=stored(pd.DataFrame({"a": pd.Series([], dtype=float)})))
    assert preview["rows"] == [] and preview["total_rows"] == 0
    assert preview["columns"][0]["count"] == 0 and preview["columns"][0]["histogram"] is None


# -- one-vs-rest curves of a multiclass scored table ------------------------------------------


def multiclass_scored(n: int = 300) -> pd.DataFrame:
    """A scored table as Score Model writes it for three classes, the third predicted worst."""
    rng = np.random.default_rng(1)
    classes = np.array(["ant", "bee", "cat"])
    actual = rng.choice(classes, n)
    noise = rng.random((n, 3)) + np.where(classes[None, :] == actual[:, None], [1.5, 1.0, 0.3], 0)
    probabilities = noise / noise.sum(axis=1, keepdims=True)
    df = pd.DataFrame({"kind": actual, "Scored Labels": classes[probabilities.argmax(axis=1)]})
    for i, name in enumerate(classes):
        df[f"Scored Probabilities_{name}"] = probabilities[:, i]
    return set_roles(df, {"kind": "label", "Scored Labels": "score", **{f"Scored Probabilities_{c}": "score" for c in classes}})


def test_class_curves_match_scikit_learn_one_vs_rest(stored):
    from sklearn import metrics as skm

    df = multiclass_scored()
    body = class_curves(folder=stored(df))
    json.dumps(body, allow_nan=False)
    assert body["label"] == "kind" and [c["class"] for c in body["classes"]] == ["ant", "bee", "cat"]
    for entry in body["classes"]:
        is_class = (df["kind"] == entry["class"]).to_numpy()
        probability = df[f"Scored Probabilities_{entry['class']}"]
        said = (df["Scored Labels"] == entry["class"]).to_numpy()
        assert entry["rows"] == is_class.sum()
        assert entry["metrics"]["auc"] == pytest.approx(skm.roc_auc_score(is_class, probability))
        assert entry["metrics"]["precision"] == pytest.approx(skm.precision_score(is_class, said))
        assert entry["metrics"]["recall"] == pytest.approx(skm.recall_score(is_class, said))
        fpr, tpr, _ = skm.roc_curve(is_class, probability)
        assert entry["roc"]["false_positive_rate"] == pytest.approx(fpr.tolist())
        assert entry["roc"]["true_positive_rate"] == pytest.approx(tpr.tolist())
        # Evaluate Model's curve: intermediate points dropped, one point per threshold.
        precision, recall, thresholds = skm.precision_recall_curve(is_class, probability, drop_intermediate=True)
        assert entry["precision_recall"]["precision"] == pytest.approx(precision[:len(thresholds)].tolist())
        assert entry["precision_recall"]["recall"] == pytest.approx(recall[:len(thresholds)].tolist())
    # The worst-separated class has the lowest AUC.
    assert min(body["classes"], key=lambda c: c["metrics"]["auc"])["class"] == "cat"


def test_class_curves_of_a_class_never_seen_nor_predicted(stored):
    df = multiclass_scored()
    df["Scored Probabilities_dog"] = 0.0
    df = set_roles(df, {**roles_of(df), "Scored Probabilities_dog": "score"})
    dog = class_curves(folder=stored(df))["classes"][-1]
    assert dog == {"class": "dog", "rows": 0, "metrics": {}, "roc": None, "precision_recall": None}


def test_class_curves_need_a_multiclass_scored_table(stored):
    regression = set_roles(pd.DataFrame({"y": [1.0, 2.0], "Scored Labels": [1.1, 1.9]}), {"y": "label", "Scored Labels": "score"})
    unlabelled = multiclass_scored()
    unlabelled = set_roles(unlabelled, {c: r for c, r in roles_of(unlabelled).items() if r != "label"})
    for df in (table(), regression, unlabelled):
        with pytest.raises(PreviewError, match="multiclass scored table"):
            class_curves(folder=stored(df))
    with pytest.raises(PreviewError, match="no rows"):
        class_curves(folder=stored(multiclass_scored().iloc[:0]))
