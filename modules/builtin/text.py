"""Text analytics: clean text, and turn it into numeric features a learner can use.

Preprocess Text cleans a text column; Feature Hashing, Extract N-Gram Features from Text and
Latent Dirichlet Allocation turn text into numeric columns; Convert Word to Vector learns
word embeddings from the text. Nothing is downloaded: stop words are scikit-learn's English
list, and word vectors are trained on the input (gensim's Word2Vec).
"""
from __future__ import annotations

import re
import zlib
from typing import Any, Mapping

import numpy as np
import pandas as pd
from sklearn.decomposition import LatentDirichletAllocation
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer, HashingVectorizer

from modules.sdk import (
    Bool, Choice, Column, ColumnKind, Columns, Estimator, Float, Input, Int, Module, ModuleError, Output,
    ParamValues, PortType, Schema, StepContext, String, register, resolve_columns, roles_of, set_roles,
)
from modules.sdk.table_limits import TableLimits

CATEGORY = "Text Analytics"
PREPROCESSED_PREFIX = "Preprocessed "
HASHING_SUFFIX = "_HashingFeature."
TOPIC_PREFIX = "Topic "
SchemaMap = Mapping[str, "Schema | None"]

# Vocabulary tables (Extract N-Gram Features' output and input vocabularies).
NGRAM_ID, NGRAM, DOCUMENT_FREQUENCY, IDF = "NGramId", "NGram", "DF", "IDF"
VOCABULARY_COLUMNS = (NGRAM_ID, NGRAM, DOCUMENT_FREQUENCY, IDF)
# Words of an n-gram are joined by this, as the designer writes them (`good_movie`).
NGRAM_JOINER = "_"

_TEXT_COLUMN_HELP = "The column holding the text"


def text_column(df: pd.DataFrame | Schema, selector: dict[str, Any] | None, *, param: str = "text_column") -> str:
    if selector is None:
        raise ModuleError("choose the column holding the text", code="no_column", param=param)
    return resolve_columns(selector, df, param=param)[0]


def documents(df: pd.DataFrame, column: str) -> list[str]:
    """The column's values as text; a missing value is an empty document."""
    values = df[column]
    return ["" if pd.isna(v) else str(v) for v in values]


def appended(df: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """`new` columns after `df`'s (replacing any of the same name), `df`'s roles kept."""
    roles = roles_of(df)
    out = pd.concat([df.drop(columns=[c for c in new.columns if c in df.columns]), new.set_axis(df.index)], axis=1)
    return set_roles(out, roles)


def refuse_too_many_columns(ctx: StepContext, count: int, what: str, hint: str, *, param: str) -> None:
    """Refused before the work is done, with what to change (the output's check only says no)."""
    limit = TableLimits.from_resources(ctx.resources).max_columns
    if count > limit:
        raise ModuleError(f"{what} would make {count:,} columns; a table may have {limit:,}. {hint}",
                          code="too_many_columns", param=param)


# --- Preprocess Text ----------------------------------------------------------------------

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
_NUMBER = re.compile(r"\b\d+(?:[.,]\d+)*\b")
_SPECIAL = re.compile(r"[^\w\s|]")
_TOKEN_SPLIT = re.compile(r"[_&\-/]+")
_REPEATED = re.compile(r"(.)\1{2,}")
_WORD = re.compile(r"[A-Za-z']+")
SENTENCE_SEPARATOR = "|||"
CONTRACTIONS = {
    "can't": "can not", "won't": "will not", "shan't": "shall not", "n't": " not", "'re": " are",
    "'ve": " have", "'ll": " will", "'d": " would", "'m": " am", "let's": "let us",
}
_CONTRACTION = re.compile("|".join(re.escape(k) for k in sorted(CONTRACTIONS, key=len, reverse=True)), re.IGNORECASE)


def preprocess(text: str, params: ParamValues) -> str:
    """One text cleaned as Preprocess Text's params say, in the designer's order of steps."""
    if params.custom_regex:
        text = re.sub(params.custom_regex, params.custom_replacement, text)
    if params.remove_urls:
        text = _URL.sub(" ", text)
    if params.remove_email_addresses:
        text = _EMAIL.sub(" ", text)
    if params.normalize_backslashes:
        text = text.replace("\\", "/")
    if params.expand_verb_contractions:
        text = _CONTRACTION.sub(lambda m: CONTRACTIONS[m.group(0).lower()], text)
    if params.normalize_case:
        text = text.lower()
    if params.detect_sentences:
        text = f" {SENTENCE_SEPARATOR} ".join(s for s in _SENTENCE_END.split(text.strip()) if s)
    if params.remove_numbers:
        text = _NUMBER.sub(" ", text)
    if params.split_tokens_on_special_characters:
        text = _TOKEN_SPLIT.sub(" ", text)
    if params.remove_special_characters:
        text = _SPECIAL.sub(" ", text)
    if params.remove_duplicate_characters:
        text = _REPEATED.sub(r"\1", text)
    tokens = text.split()
    if params.remove_stop_words:
        tokens = [t for t in tokens if t.lower() not in ENGLISH_STOP_WORDS]
    return " ".join(tokens)


@register
class PreprocessText(Module):
    """Clean a text column: case, stop words, numbers, special characters, URLs, e-mail addresses."""

    id = "preprocess_text"
    name = "Preprocess Text"
    keywords = ("clean text", "stop words", "lowercase", "nlp", "tokenize")
    category = CATEGORY
    help = (
        f"Adds `{PREPROCESSED_PREFIX}<column>`, the text of `text_column` cleaned by the steps "
        "turned on, in this order: the custom regular expression (`custom_regex` replaced by "
        "`custom_replacement`), URLs and e-mail addresses removed, backslashes turned into "
        "slashes, verb contractions expanded (`don't` → `do not`), lower case, sentences "
        f"separated by `{SENTENCE_SEPARATOR}`, numbers removed, tokens split on `_ & - /`, "
        "special characters removed, characters repeated more than twice kept once (`sooo` → "
        "`so`), and English stop words removed (scikit-learn's list of 318 words). Words are "
        "then separated by single spaces; a missing text stays missing.\n\n"
        "English is the only language. The designer's lemmatization needs language models "
        "that would have to be downloaded, and is not offered."
    )
    example_params = {"text_column": "color"}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with a text column")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with the cleaned text added")

    class Params:
        text_column = Columns(multiple=False, kinds=("string",), help=_TEXT_COLUMN_HELP)
        language = Choice(choices=("english",), default="english", help="The language of the text (stop words)")
        remove_stop_words = Bool(default=True, help="Remove common English words (the, is, at…)")
        detect_sentences = Bool(default=True, help=f"Separate sentences by {SENTENCE_SEPARATOR}")
        normalize_case = Bool(default=True, help="Turn the text into lower case")
        remove_numbers = Bool(default=True, help="Remove numbers")
        remove_special_characters = Bool(default=True, help="Remove characters other than letters, digits and spaces")
        remove_duplicate_characters = Bool(default=False, help="Keep once a character repeated more than twice")
        remove_email_addresses = Bool(default=True, help="Remove e-mail addresses")
        remove_urls = Bool(default=True, help="Remove URLs")
        expand_verb_contractions = Bool(default=True, help="Expand contractions: don't → do not")
        normalize_backslashes = Bool(default=True, help="Turn backslashes into slashes")
        split_tokens_on_special_characters = Bool(default=True, help="Split words on _ & - /")
        custom_regex = String(default="", help="A regular expression to replace first (Python syntax)")
        custom_replacement = String(default="", help="What custom_regex matches are replaced with")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        column = text_column(dataset, params.text_column)
        if params.custom_regex:
            try:
                re.compile(params.custom_regex)
            except re.error as exc:
                raise ModuleError(f"custom_regex is not a valid regular expression: {exc}", code="bad_regex",
                                  param="custom_regex") from None
        cleaned = [None if pd.isna(v) else preprocess(str(v), params) for v in dataset[column]]
        new = pd.DataFrame({PREPROCESSED_PREFIX + column: pd.Series(cleaned, dtype=object)})
        return {"dataset": appended(dataset, new)}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None or params.text_column is None:
            return {"dataset": None}
        name = PREPROCESSED_PREFIX + text_column(schema, params.text_column)
        kept = [c for c in schema if c.name != name]
        return {"dataset": Schema([*kept, Column(name, ColumnKind.STRING)])}


# --- Feature Hashing ----------------------------------------------------------------------


def hashing_vectorizer(bits: int, ngrams: int) -> HashingVectorizer:
    return HashingVectorizer(
        n_features=2**bits, ngram_range=(1, ngrams), alternate_sign=False, norm=None, lowercase=True,
    )


@register
class FeatureHashing(Module):
    """Turn text columns into a fixed number of numeric columns by hashing their words and n-grams."""

    id = "feature_hashing"
    name = "Feature Hashing"
    keywords = ("hashing trick", "vectorize text", "text features")
    category = CATEGORY
    help = (
        "For each text column, counts its words and n-grams (up to `ngrams` words long) into "
        f"2^`hashing_bitsize` columns `<column>{HASHING_SUFFIX}<i>`: an n-gram's column is chosen "
        "by a hash of its text (scikit-learn's `HashingVectorizer`, MurmurHash3; text in lower "
        "case), so no vocabulary is kept and new text maps to the same columns. Different "
        "n-grams may share a column (more bits: fewer collisions).\n\n"
        "A table may have at most 10,000 columns, so hashing_bitsize is at most 13 (8,192 "
        "columns per text column)."
    )
    example_params = {"text_columns": ["color"], "hashing_bitsize": 4}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with text columns")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with the hashed features added")

    class Params:
        text_columns = Columns(kinds=("string",), help="The text columns to hash")
        hashing_bitsize = Int(default=10, min=1, max=13, help="2 to this power columns per text column")
        ngrams = Int(default=2, min=1, max=10, help="Longest n-gram counted, in words")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        columns = self._columns(dataset, params)
        refuse_too_many_columns(
            ctx, dataset.shape[1] + len(columns) * 2**params.hashing_bitsize, "hashing these columns",
            "Use a smaller hashing_bitsize or fewer columns", param="hashing_bitsize",
        )
        vectorizer = hashing_vectorizer(params.hashing_bitsize, params.ngrams)
        names = {column: self._names(column, params.hashing_bitsize) for column in columns}
        parts = [
            # scikit-learn's hasher needs a first document: a table without rows gets none.
            pd.DataFrame(vectorizer.transform(documents(dataset, c)).toarray() if len(dataset) else None, columns=names[c])
            for c in columns
        ]
        return {"dataset": appended(dataset, pd.concat(parts, axis=1))}

    @staticmethod
    def _columns(table: pd.DataFrame | Schema, params: ParamValues) -> list[str]:
        if params.text_columns is None:
            raise ModuleError("choose the text columns to hash", code="no_column", param="text_columns")
        return resolve_columns(params.text_columns, table, param="text_columns")

    @staticmethod
    def _names(column: str, bits: int) -> list[str]:
        return [f"{column}{HASHING_SUFFIX}{i}" for i in range(2**bits)]

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None or params.text_columns is None:
            return {"dataset": None}
        names = [n for c in cls._columns(schema, params) for n in cls._names(c, params.hashing_bitsize)]
        kept = [c for c in schema if c.name not in set(names)]
        return {"dataset": Schema([*kept, *(Column(n, ColumnKind.NUMERIC) for n in names)])}


# --- Extract N-Gram Features from Text ------------------------------------------------------

CREATE, READ_ONLY = "create", "readonly"


def ngram_counter(params: ParamValues, vocabulary: list[str] | None = None) -> CountVectorizer:
    """Counts of n-grams of words `min_word_length` to `max_word_length` letters long, in lower case."""
    return CountVectorizer(
        lowercase=True, token_pattern=rf"(?u)\b\w{{{params.min_word_length},{params.max_word_length}}}\b",
        ngram_range=(1, params.ngram_size), vocabulary=vocabulary,
    )


def weighted(counts: Any, idf: np.ndarray, weighting: str, normalize: bool) -> np.ndarray:
    """Each row's n-gram weights: binary, counts (tf), idf or tf-idf; L2-normalized if asked."""
    dense = np.asarray(counts.toarray(), dtype=float)
    values = {
        "binary": (dense > 0).astype(float),
        "tf": dense,
        "idf": (dense > 0) * idf,
        "tfidf": dense * idf,
    }[weighting]
    if normalize:
        norms = np.linalg.norm(values, axis=1, keepdims=True)
        values = np.divide(values, norms, out=np.zeros_like(values), where=norms > 0)
    return values


@register
class ExtractNGramFeatures(Module):
    """Turn a text column into one numeric column per word or n-gram of a vocabulary."""

    id = "extract_ngram_features"
    name = "Extract N-Gram Features from Text"
    keywords = ("bag of words", "tf-idf", "vectorize text", "text features")
    category = CATEGORY
    help = (
        "Builds a vocabulary of the words and n-grams (up to `ngram_size` words, joined by `_` "
        "as in `good_movie`) of `text_column`, and adds one column `<column>.[<n-gram>]` per "
        "vocabulary entry with its weight in each row.\n\n"
        "- **vocabulary_mode**: `create` builds the vocabulary from this table; `readonly` uses "
        "the `input_vocabulary` (the `vocabulary` output of a `create` run, e.g. on the training "
        "data) unchanged, with its IDF values: connect it when featurizing test or new data, "
        "so that their columns are the training data's.\n"
        "- **weighting**: `binary` (1 when present), `tf` (count in the row), `idf` (the "
        "n-gram's inverse document frequency, log(documents / documents holding it), when "
        "present) or `tfidf` (count × idf).\n"
        "- Words are letters and digits, `min_word_length` to `max_word_length` long, in lower "
        "case; shorter and longer words are skipped.\n"
        "- **min_document_frequency**: n-grams in fewer rows are left out of a created "
        "vocabulary; **max_document_ratio**: so are those in a larger share of the rows.\n"
        "- **normalize**: scale each row's weights to unit length (L2).\n\n"
        f"The `vocabulary` output has `{NGRAM_ID}`, `{NGRAM}`, `{DOCUMENT_FREQUENCY}` (rows "
        f"holding it) and `{IDF}`. A table may have at most 10,000 columns: raise "
        "min_document_frequency when the vocabulary is larger. The designer's update and merge "
        "modes and its feature selection are not offered."
    )
    example_params = {"text_column": "color", "min_document_frequency": 1}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with a text column")
        input_vocabulary = Input(type=PortType.DATAFRAME, optional=True, help="A vocabulary, for readonly mode")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with one column per n-gram added")
        vocabulary = Output(type=PortType.DATAFRAME, help="The vocabulary, reusable in readonly mode")

    class Params:
        text_column = Columns(multiple=False, kinds=("string",), help=_TEXT_COLUMN_HELP)
        vocabulary_mode = Choice(choices=(CREATE, READ_ONLY), default=CREATE,
                                 help="Build the vocabulary here, or use input_vocabulary unchanged")
        ngram_size = Int(default=1, min=1, max=10, help="Longest n-gram, in words")
        weighting = Choice(choices=("binary", "tf", "idf", "tfidf"), default="binary", help="The value of each n-gram column")
        min_word_length = Int(default=3, min=1, max=100, help="Shorter words are skipped")
        max_word_length = Int(default=25, min=1, max=1000, help="Longer words are skipped")
        min_document_frequency = Int(default=5, min=1, help="Leave out n-grams found in fewer rows")
        max_document_ratio = Float(default=1.0, min=0.0, max=1.0, help="Leave out n-grams found in a larger share of rows")
        normalize = Bool(default=True, help="Scale each row's weights to unit length")

    def run(
        self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame, input_vocabulary: pd.DataFrame | None = None
    ) -> dict[str, Any]:
        column = text_column(dataset, params.text_column)
        if params.min_word_length > params.max_word_length:
            raise ModuleError(
                f"min_word_length ({params.min_word_length}) is above max_word_length ({params.max_word_length})",
                code="bad_range", param="min_word_length",
            )
        texts = documents(dataset, column)
        vocabulary = self._read_vocabulary(input_vocabulary) if params.vocabulary_mode == READ_ONLY else (
            self._create_vocabulary(texts, params)
        )
        refuse_too_many_columns(
            ctx, dataset.shape[1] + len(vocabulary), f"a vocabulary of {len(vocabulary):,} n-grams",
            "Raise min_document_frequency or lower ngram_size", param="min_document_frequency",
        )
        if vocabulary.empty:
            ctx.warn(
                "the vocabulary is empty: no n-gram is in min_document_frequency rows or more; no column was added"
            )
            values = np.zeros((len(texts), 0))
        else:
            # CountVectorizer joins n-gram words with spaces; the vocabulary names them the designer's way.
            counter = ngram_counter(params, [g.replace(NGRAM_JOINER, " ") for g in vocabulary[NGRAM]])
            values = weighted(counter.transform(texts), vocabulary[IDF].to_numpy(dtype=float), params.weighting,
                              params.normalize)
        features = pd.DataFrame(values, columns=[f"{column}.[{g}]" for g in vocabulary[NGRAM]])
        ctx.log(f"{len(vocabulary)} n-grams in the vocabulary")
        return {"dataset": appended(dataset, features), "vocabulary": vocabulary}

    @staticmethod
    def _create_vocabulary(texts: list[str], params: ParamValues) -> pd.DataFrame:
        counter = ngram_counter(params)
        try:
            present = counter.fit_transform(texts) > 0
        except ValueError:  # scikit-learn's "empty vocabulary": no word of the allowed lengths
            present = None
        if present is None or not len(texts):
            return pd.DataFrame({NGRAM_ID: pd.Series(dtype="int64"), NGRAM: pd.Series(dtype=object),
                                 DOCUMENT_FREQUENCY: pd.Series(dtype="int64"), IDF: pd.Series(dtype=float)})
        frequency = np.asarray(present.sum(axis=0)).ravel()
        names = counter.get_feature_names_out()
        kept = (frequency >= params.min_document_frequency) & (frequency <= params.max_document_ratio * len(texts))
        return pd.DataFrame({
            NGRAM_ID: np.arange(int(kept.sum()), dtype="int64"),
            NGRAM: [str(n).replace(" ", NGRAM_JOINER) for n in names[kept]],
            DOCUMENT_FREQUENCY: frequency[kept].astype("int64"),
            IDF: np.log(len(texts) / frequency[kept]),
        })

    @staticmethod
    def _read_vocabulary(vocabulary: pd.DataFrame | None) -> pd.DataFrame:
        if vocabulary is None:
            raise ModuleError(
                "readonly mode needs a vocabulary: connect the vocabulary output of a create run to "
                "input_vocabulary", code="no_vocabulary", port="input_vocabulary",
            )
        absent = [c for c in (NGRAM, IDF) if c not in vocabulary.columns]
        if absent:
            raise ModuleError(
                f"the input vocabulary lacks the columns {', '.join(absent)}; connect the vocabulary output "
                "of Extract N-Gram Features from Text", code="bad_vocabulary", port="input_vocabulary",
            )
        if vocabulary[NGRAM].isna().any() or vocabulary[IDF].isna().any():
            raise ModuleError("the input vocabulary has missing n-grams or IDF values", code="bad_vocabulary",
                              port="input_vocabulary")
        repeated = vocabulary[NGRAM][vocabulary[NGRAM].duplicated()]
        if not repeated.empty:
            raise ModuleError(f"the input vocabulary lists {repeated.iloc[0]!r} twice", code="bad_vocabulary",
                              port="input_vocabulary")
        return vocabulary.reset_index(drop=True)


# --- Latent Dirichlet Allocation ------------------------------------------------------------


class TopicModel:
    """Adds the topic mixture of a text column to a table: a fitted n-gram counter and LDA."""

    def __init__(self, *, column: str, counter: CountVectorizer, lda: LatentDirichletAllocation, normalize: bool) -> None:
        self.column = column
        self.counter = counter
        self.lda = lda
        self.normalize = normalize

    def topics(self, df: pd.DataFrame) -> pd.DataFrame:
        if self.column not in df.columns:
            raise ModuleError(f"the table lacks the text column {self.column!r} the topics were learned from",
                              code="unknown_column", port="dataset")
        counts = self.counter.transform(documents(df, self.column))
        mixture = self.lda.transform(counts)  # each row's shares of the topics
        if not self.normalize:  # in n-grams: the shares times the row's count of n-grams
            mixture = mixture * np.asarray(counts.sum(axis=1)).reshape(-1, 1)
        return pd.DataFrame(mixture, columns=topic_names(self.lda.n_components))

    def transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return appended(df, self.topics(df))


def topic_names(count: int) -> list[str]:
    return [f"{TOPIC_PREFIX}{k + 1}" for k in range(count)]


@register
class LatentDirichletAllocationModule(Module):
    """Find topics in a text column: each row gets its mix of topics, each topic its words."""

    id = "latent_dirichlet_allocation"
    name = "Latent Dirichlet Allocation"
    keywords = ("topics", "topic modeling", "lda")
    category = CATEGORY
    help = (
        "Learns `n_topics` topics from the words and n-grams (up to `ngrams` words) of "
        "`text_column` (scikit-learn's `LatentDirichletAllocation`, online variational Bayes) "
        f"and adds `{TOPIC_PREFIX}1`… columns: how much of each topic the row holds (summing "
        "to 1 with `normalize`, else in counts of n-grams).\n\n"
        "- **feature_topic_matrix**: one row per n-gram (`Feature`), with its weight in each topic;\n"
        "- **transform**: the fitted topics, for Apply Transformation on other text;\n"
        "- **alpha**, **rho**: the prior of topics per row and of n-grams per topic (small: few);\n"
        "- **max_ngrams**: the most frequent n-grams kept in the dictionary;\n"
        "- **passes**, **batch_size**: passes over the rows and rows per update.\n\n"
        "Words are two letters or more, in lower case; English stop words are not removed here "
        "(use Preprocess Text first)."
    )
    example_params = {"text_column": "color", "n_topics": 2, "ngrams": 1, "passes": 2}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with a text column")

    class Outputs:
        dataset = Output(type=PortType.DATAFRAME, help="The table with a column per topic added")
        feature_topic_matrix = Output(type=PortType.DATAFRAME, help="Each n-gram's weight in each topic")
        transform = Output(type=PortType.TRANSFORM, help="The topics, for Apply Transformation")

    class Params:
        text_column = Columns(multiple=False, kinds=("string",), help=_TEXT_COLUMN_HELP)
        n_topics = Int(default=5, min=1, max=1000, help="Number of topics")
        ngrams = Int(default=2, min=1, max=10, help="Longest n-gram, in words")
        normalize = Bool(default=True, help="Give each row's topics as shares summing to 1")
        alpha = Float(default=0.01, min=1e-9, help="Prior weight of topics in a row")
        rho = Float(default=0.01, min=1e-9, help="Prior weight of n-grams in a topic")
        max_ngrams = Int(default=20_000, min=1, max=1_000_000, help="Size of the n-gram dictionary")
        passes = Int(default=25, min=1, max=1000, help="Passes over the rows")
        batch_size = Int(default=32, min=1, help="Rows per update")
        seed = Int(default=0, min=0, help="Random seed")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        column = text_column(dataset, params.text_column)
        refuse_too_many_columns(ctx, dataset.shape[1] + params.n_topics, f"{params.n_topics} topics", "Use fewer topics",
                                param="n_topics")
        texts = documents(dataset, column)
        counter = CountVectorizer(lowercase=True, ngram_range=(1, params.ngrams), max_features=params.max_ngrams)
        try:
            counts = counter.fit_transform(texts)
        except ValueError:
            raise ModuleError(f"{column!r} holds no words to find topics in", code="no_words",
                              param="text_column") from None
        lda = LatentDirichletAllocation(
            n_components=params.n_topics, doc_topic_prior=params.alpha, topic_word_prior=params.rho,
            learning_method="online", batch_size=params.batch_size, max_iter=params.passes,
            random_state=params.seed,
        ).fit(counts)
        model = TopicModel(column=column, counter=counter, lda=lda, normalize=params.normalize)
        matrix = pd.DataFrame(lda.components_.T, columns=topic_names(params.n_topics))
        matrix.insert(0, "Feature", counter.get_feature_names_out().astype(object))
        return {
            "dataset": model.transform(dataset), "feature_topic_matrix": matrix,
            "transform": Estimator(model, {"kind": "topics", "column": column}),
        }

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        schema = inputs.get("dataset")
        if schema is None or params.text_column is None:
            return {"dataset": None}
        text_column(schema, params.text_column)
        names = topic_names(params.n_topics)
        kept = [c for c in schema if c.name not in set(names)]
        return {
            "dataset": Schema([*kept, *(Column(n, ColumnKind.NUMERIC) for n in names)]),
            "feature_topic_matrix": Schema([Column("Feature", ColumnKind.STRING),
                                            *(Column(n, ColumnKind.NUMERIC) for n in names)]),
        }


# --- Convert Word to Vector -----------------------------------------------------------------

VOCABULARY = "Vocabulary"
EMBEDDING_PREFIX = "Embedding Dim "


def stable_hash(text: str) -> int:
    """Seeds a word's first vector; Python's own hash changes with every process, and would
    make training give other vectors each run."""
    return zlib.crc32(text.encode("utf-8"))


@register
class ConvertWordToVector(Module):
    """Learn a vector for each word of a text column, from the words around it (Word2Vec)."""

    id = "convert_word_to_vector"
    name = "Convert Word to Vector"
    keywords = ("word2vec", "embeddings", "word vectors")
    category = CATEGORY
    help = (
        "Trains word embeddings on the text of `text_column` with gensim's Word2Vec and outputs "
        f"the vocabulary: a `{VOCABULARY}` column and `{EMBEDDING_PREFIX}0`… columns, one row per "
        "word. Words are the text's whitespace-separated tokens, so clean the text with "
        "Preprocess Text first.\n\n"
        "- **algorithm**: `skip_gram` (predict the words around a word) or `cbow` (predict a "
        "word from the words around it);\n"
        "- **embedding_length**, **window_size**, **epochs**: the vectors' length, how many "
        "words on each side count as context, and passes over the text;\n"
        "- **min_count**: words seen fewer times are left out; **max_vocabulary_size**: at most "
        "this many words are kept, the most frequent.\n\n"
        "Training uses one thread and `seed`, so it gives the same vectors every run. Only "
        "training on the input is offered: the designer's pretrained GloVe and fastText "
        "vectors would have to be downloaded."
    )
    example_params = {"text_column": "color", "min_count": 1, "embedding_length": 4, "epochs": 1}

    class Inputs:
        dataset = Input(type=PortType.DATAFRAME, help="A table with a text column")

    class Outputs:
        vocabulary = Output(type=PortType.DATAFRAME, help="Each word and its vector")

    class Params:
        text_column = Columns(multiple=False, kinds=("string",), help=_TEXT_COLUMN_HELP)
        algorithm = Choice(choices=("skip_gram", "cbow"), default="skip_gram", help="The Word2Vec training algorithm")
        embedding_length = Int(default=100, min=1, max=1000, help="Length of each word's vector")
        window_size = Int(default=5, min=1, max=100, help="Words on each side that count as context")
        epochs = Int(default=5, min=1, max=1000, help="Passes over the text")
        min_count = Int(default=5, min=1, help="Leave out words seen fewer times")
        max_vocabulary_size = Int(default=10_000, min=1, max=10_000_000, help="Most words kept")
        seed = Int(default=0, min=0, max=2**31 - 1, help="Random seed")

    def run(self, ctx: StepContext, params: ParamValues, dataset: pd.DataFrame) -> dict[str, Any]:
        from gensim.models import Word2Vec  # a second of imports only this module needs

        column = text_column(dataset, params.text_column)
        sentences = [text.split() for text in documents(dataset, column)]
        counts = pd.Series([w for s in sentences for w in s], dtype=object).value_counts()
        if not (counts >= params.min_count).any():
            raise ModuleError(
                f"no word of {column!r} appears {params.min_count} times or more; lower min_count",
                code="no_words", param="min_count",
            )
        model = Word2Vec(
            sentences=sentences, vector_size=params.embedding_length, window=params.window_size,
            min_count=params.min_count, max_final_vocab=params.max_vocabulary_size,
            sg=1 if params.algorithm == "skip_gram" else 0, epochs=params.epochs, seed=params.seed,
            workers=1, hashfxn=stable_hash,
        )
        words = list(model.wv.index_to_key)
        vectors = pd.DataFrame(model.wv.vectors.astype(float),
                               columns=[f"{EMBEDDING_PREFIX}{i}" for i in range(params.embedding_length)])
        vectors.insert(0, VOCABULARY, pd.Series(words, dtype=object))
        ctx.log(f"{len(words)} words, vectors of length {params.embedding_length}")
        return {"vocabulary": vectors}

    @classmethod
    def infer_schema(cls, params: ParamValues, inputs: SchemaMap) -> SchemaMap:
        return {"vocabulary": Schema([
            Column(VOCABULARY, ColumnKind.STRING),
            *(Column(f"{EMBEDDING_PREFIX}{i}", ColumnKind.NUMERIC) for i in range(params.embedding_length)),
        ])}
