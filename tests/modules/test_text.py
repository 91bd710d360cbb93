"""Text analytics modules, checked against scikit-learn and gensim doing the same work."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from gensim.models import Word2Vec
from sklearn.decomposition import LatentDirichletAllocation
from sklearn.feature_extraction.text import CountVectorizer, HashingVectorizer

from modules.builtin.text import stable_hash
from modules.sdk import ModuleError, default_registry
from modules.sdk.artifacts import read_value, write_value
from modules.sdk.schema import schema_of
from modules.sdk.testing import call_module
from modules.sdk.types import PortType

REVIEWS = pd.DataFrame({
    "review": [
        "I DON'T like it!!! Visit http://example.com now. Mail me: someone@example.org",
        "Great movie, 10/10 - state-of-the-art \\ effects",
        None,
        "Sooo good. The acting was great and the story was great",
        "Boring story, boring acting; I wanted my money back",
        "A great story with great acting and great effects",
    ],
    "stars": [1, 5, 3, 5, 1, 5],
})


def texts(df: pd.DataFrame, column: str) -> list[str]:
    return df[column].fillna("").astype(str).tolist()


# --- Preprocess Text ----------------------------------------------------------------------


def test_preprocess_text_cleans_as_the_designer_does() -> None:
    out = call_module("preprocess_text", {"text_column": "review"}, dataset=REVIEWS).outputs["dataset"]
    assert list(out.columns) == ["review", "stars", "Preprocessed review"]
    assert out["Preprocessed review"].tolist() == [
        "like ||| visit ||| mail",  # contractions expanded, then "do not", "i", "it" are stop words
        "great movie state art effects",
        None,
        "sooo good ||| acting great story great",
        "boring story boring acting wanted money",
        "great story great acting great effects",
    ]


def test_preprocess_text_steps_can_be_turned_off_and_a_custom_regex_runs_first() -> None:
    params = {
        "text_column": "review", "remove_stop_words": False, "detect_sentences": False, "normalize_case": False,
        "remove_numbers": False, "remove_special_characters": False, "remove_duplicate_characters": True,
        "custom_regex": r"\bSooo\b", "custom_replacement": "Very",
    }
    out = call_module("preprocess_text", params, dataset=REVIEWS.iloc[[1, 3]]).outputs["dataset"]
    assert out["Preprocessed review"].tolist() == [
        "Great movie, 10 10 state of the art effects",  # tokens split on - and / (a \\ turned into /)
        "Very good. The acting was great and the story was great",
    ]


def test_preprocess_text_refuses_a_bad_regex_and_names_unknown_columns() -> None:
    with pytest.raises(ModuleError, match="custom_regex is not a valid regular expression") as caught:
        call_module("preprocess_text", {"text_column": "review", "custom_regex": "("}, dataset=REVIEWS)
    assert caught.value.param == "custom_regex"
    with pytest.raises(ModuleError, match="'text' not found") as caught:
        call_module("preprocess_text", {"text_column": "text"}, dataset=REVIEWS)
    assert caught.value.param == "text_column"
    with pytest.raises(ModuleError, match="choose the column holding the text"):
        call_module("preprocess_text", {}, dataset=REVIEWS)


# --- Feature Hashing ----------------------------------------------------------------------


def test_feature_hashing_counts_ngrams_as_hashing_vectorizer_does() -> None:
    out = call_module(
        "feature_hashing", {"text_columns": ["review"], "hashing_bitsize": 6, "ngrams": 2}, dataset=REVIEWS
    ).outputs["dataset"]
    expected = HashingVectorizer(n_features=64, ngram_range=(1, 2), alternate_sign=False, norm=None).transform(
        texts(REVIEWS, "review")
    ).toarray()
    names = [f"review_HashingFeature.{i}" for i in range(64)]
    assert list(out.columns) == ["review", "stars", *names]
    np.testing.assert_array_equal(out[names].to_numpy(), expected)
    assert out[names].iloc[2].sum() == 0  # a missing text hashes to nothing


def test_feature_hashing_refuses_more_columns_than_a_table_may_have() -> None:
    table = REVIEWS.assign(title=REVIEWS["review"])
    with pytest.raises(ModuleError, match="16,387 columns; a table may have 10,000") as caught:
        call_module("feature_hashing", {"text_columns": ["review", "title"], "hashing_bitsize": 13}, dataset=table)
    assert caught.value.param == "hashing_bitsize"


# --- Extract N-Gram Features from Text ------------------------------------------------------


def ngram_params(**extra: object) -> dict[str, object]:
    return {"text_column": "review", "min_document_frequency": 2, "ngram_size": 2, **extra}


def test_ngram_vocabulary_and_tfidf_weights_match_count_vectorizer() -> None:
    run = call_module("extract_ngram_features", ngram_params(weighting="tfidf", normalize=False), dataset=REVIEWS)
    vocabulary, out = run.outputs["vocabulary"], run.outputs["dataset"]

    counter = CountVectorizer(token_pattern=r"(?u)\b\w{3,25}\b", ngram_range=(1, 2))
    counts = counter.fit_transform(texts(REVIEWS, "review")).toarray()
    df = (counts > 0).sum(axis=0)
    kept = df >= 2
    names = [n.replace(" ", "_") for n in counter.get_feature_names_out()[kept]]
    assert vocabulary["NGram"].tolist() == names
    assert names == ["acting", "and", "effects", "great", "story", "the"]  # no bigram is in 2 rows
    np.testing.assert_array_equal(vocabulary["DF"], df[kept])
    idf = np.log(len(REVIEWS) / df[kept])
    np.testing.assert_allclose(vocabulary["IDF"], idf)
    np.testing.assert_allclose(out[[f"review.[{n}]" for n in names]].to_numpy(), counts[:, kept] * idf)


def test_binary_weights_are_normalized_to_unit_length() -> None:
    out = call_module("extract_ngram_features", ngram_params(), dataset=REVIEWS).outputs["dataset"]
    features = out[[c for c in out.columns if c.startswith("review.[")]].to_numpy()
    norms = np.linalg.norm(features, axis=1)
    np.testing.assert_allclose(norms[norms > 0], 1.0)
    row = features[5]  # "A great story with great acting and great effects": 5 n-grams of the vocabulary
    np.testing.assert_allclose(row[row > 0], np.full(5, 1 / np.sqrt(5)))


def test_readonly_mode_featurizes_new_text_with_the_training_vocabulary(tmp_path: Path) -> None:
    train = call_module("extract_ngram_features", ngram_params(weighting="tfidf"), dataset=REVIEWS)
    vocabulary = train.outputs["vocabulary"]
    write_value(PortType.DATAFRAME, vocabulary, tmp_path / "v")
    new = pd.DataFrame({"review": ["great acting, terrible story", "nothing known here"]})
    out = call_module(
        "extract_ngram_features", ngram_params(vocabulary_mode="readonly", weighting="tfidf"), dataset=new,
        input_vocabulary=read_value(PortType.DATAFRAME, tmp_path / "v"),
    )
    assert out.outputs["vocabulary"]["NGram"].tolist() == vocabulary["NGram"].tolist()
    features = [f"review.[{n}]" for n in vocabulary["NGram"]]
    assert list(out.outputs["dataset"].columns) == ["review", *features]
    row = out.outputs["dataset"].iloc[0]
    idf = dict(zip(vocabulary["NGram"], vocabulary["IDF"]))
    present = {"great": idf["great"], "acting": idf["acting"], "story": idf["story"]}
    norm = np.linalg.norm(list(present.values()))
    for ngram in vocabulary["NGram"]:
        assert row[f"review.[{ngram}]"] == pytest.approx(present.get(ngram, 0.0) / norm)
    assert (out.outputs["dataset"].iloc[1][features] == 0).all()


def test_readonly_mode_needs_a_vocabulary_with_its_columns() -> None:
    with pytest.raises(ModuleError, match="readonly mode needs a vocabulary") as caught:
        call_module("extract_ngram_features", ngram_params(vocabulary_mode="readonly"), dataset=REVIEWS)
    assert caught.value.port == "input_vocabulary"
    with pytest.raises(ModuleError, match="lacks the columns IDF"):
        call_module("extract_ngram_features", ngram_params(vocabulary_mode="readonly"), dataset=REVIEWS,
                    input_vocabulary=pd.DataFrame({"NGram": ["great"]}))


def test_word_lengths_must_make_a_range() -> None:
    with pytest.raises(ModuleError, match="min_word_length \\(9\\) is above max_word_length \\(4\\)"):
        call_module("extract_ngram_features", ngram_params(min_word_length=9, max_word_length=4), dataset=REVIEWS)


# --- Latent Dirichlet Allocation ------------------------------------------------------------


def test_lda_topics_match_scikit_learn_and_reapply_to_other_text(tmp_path: Path) -> None:
    params = {"text_column": "review", "n_topics": 3, "ngrams": 1, "passes": 10, "seed": 2, "alpha": 0.1, "rho": 0.1}
    run = call_module("latent_dirichlet_allocation", params, dataset=REVIEWS)

    counter = CountVectorizer(ngram_range=(1, 1), max_features=20_000)
    counts = counter.fit_transform(texts(REVIEWS, "review"))
    lda = LatentDirichletAllocation(n_components=3, doc_topic_prior=0.1, topic_word_prior=0.1, learning_method="online",
                                    batch_size=32, max_iter=10, random_state=2).fit(counts)
    topics = ["Topic 1", "Topic 2", "Topic 3"]
    np.testing.assert_allclose(run.outputs["dataset"][topics], lda.transform(counts), atol=1e-12)
    matrix = run.outputs["feature_topic_matrix"]
    assert matrix["Feature"].tolist() == counter.get_feature_names_out().tolist()
    np.testing.assert_allclose(matrix[topics], lda.components_.T)

    write_value(PortType.TRANSFORM, run.outputs["transform"], tmp_path / "t")
    transform = read_value(PortType.TRANSFORM, tmp_path / "t")
    other = pd.DataFrame({"review": ["boring acting", "great effects"], "id": [1, 2]})
    applied = call_module("apply_transformation", {}, transform=transform, dataset=other).outputs["dataset"]
    assert list(applied.columns) == ["review", "id", *topics]
    np.testing.assert_allclose(applied[topics], lda.transform(counter.transform(other["review"])), atol=1e-12)


def test_lda_schema_is_known_before_it_runs() -> None:
    cls = default_registry().get("latent_dirichlet_allocation")
    cleaned, _ = cls.spec.clean_params({"text_column": "review", "n_topics": 2})
    from modules.sdk import ParamValues

    inferred = cls.infer_schema(ParamValues(cleaned), {"dataset": schema_of(REVIEWS)})
    assert inferred["dataset"].names == ["review", "stars", "Topic 1", "Topic 2"]


# --- Convert Word to Vector -----------------------------------------------------------------


def test_word_vectors_are_gensims_word2vec_trained_on_the_column() -> None:
    params = {"text_column": "review", "min_count": 2, "embedding_length": 8, "window_size": 3, "epochs": 20,
              "algorithm": "cbow", "seed": 4}
    first = call_module("convert_word_to_vector", params, dataset=REVIEWS).outputs["vocabulary"]
    again = call_module("convert_word_to_vector", params, dataset=REVIEWS).outputs["vocabulary"]
    pd.testing.assert_frame_equal(first, again)

    sentences = [t.split() for t in texts(REVIEWS, "review")]
    model = Word2Vec(sentences=sentences, vector_size=8, window=3, min_count=2, sg=0, epochs=20, seed=4, workers=1,
                     hashfxn=stable_hash, max_final_vocab=10_000)
    assert first["Vocabulary"].tolist() == list(model.wv.index_to_key)
    np.testing.assert_allclose(first[[f"Embedding Dim {i}" for i in range(8)]].to_numpy(), model.wv.vectors, rtol=1e-6)


def test_word_vectors_need_words_seen_often_enough() -> None:
    with pytest.raises(ModuleError, match="no word of 'review' appears 50 times or more") as caught:
        call_module("convert_word_to_vector", {"text_column": "review", "min_count": 50}, dataset=REVIEWS)
    assert caught.value.param == "min_count"


def test_an_empty_vocabulary_adds_no_column_and_says_so() -> None:
    run = call_module("extract_ngram_features", ngram_params(min_document_frequency=6), dataset=REVIEWS)
    assert list(run.outputs["dataset"].columns) == ["review", "stars"]
    assert run.outputs["vocabulary"].empty
    assert any("the vocabulary is empty" in w for w in run.ctx.warnings)
