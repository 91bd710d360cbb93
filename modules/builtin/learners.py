"""Machine learning algorithms: modules that output an untrained model.

Each learner outputs an `Estimator` holding a bare scikit-learn estimator and meta
`{"task", "algorithm", "scaling", "params"}`. Train Model (or Train Clustering Model)
wraps it in a Pipeline that one-hot encodes text features and, where `scaling` says so,
rescales numeric ones, because only then does it know the table's columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.ensemble import (
    HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import (
    LinearRegression, LogisticRegression, PoissonRegressor, Ridge, SGDClassifier, SGDRegressor,
)
from sklearn.multiclass import OneVsOneClassifier, OneVsRestClassifier
from sklearn.neural_network import MLPClassifier, MLPRegressor

from modules.sdk import (
    Bool, Choice, Estimator, Float, Input, Int, Module, ModuleError, Output, Param, ParamValues, PortType,
    StepContext, register,
)
from modules.sdk.params import ParamError

from .parameter_ranges import TRAINER_MODE, ValueRange

CATEGORY = "Machine Learning Algorithms"
ANOMALY_CATEGORY = "Anomaly Detection"  # the designer's own palette group for its detector and trainer

# Tasks, as recorded in model meta; Train/Score/Evaluate Model key their behaviour on them.
REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
CLUSTERING = "clustering"
ANOMALY_DETECTION = "anomaly_detection"

# How a multiclass wrapper (One-vs-All, One-vs-One) combines its two-class models; recorded
# in model meta so that Tune Model Hyperparameters can wrap each candidate it rebuilds.
ONE_VS_ALL = "one_vs_all"
ONE_VS_ONE = "one_vs_one"

# How Train Model rescales numeric features before the estimator sees them.
STANDARD_SCALING = "standard"
MINMAX_SCALING = "minmax"

# The depth the designer's boosted trees (LightGBM) are limited to, whatever the leaf count.
DESIGNER_TREE_DEPTH = 3

# Param declarations shared by several learners (the Module declaration copies them).
SEED = Int(default=0, min=0, help="Random seed, so that training gives the same model every time")
BOOSTED_MAX_LEAVES = Int(default=20, min=2, help="Maximum number of leaves per tree")
BOOSTED_MIN_LEAF = Int(default=10, min=1, help="Minimum number of training rows per leaf")
BOOSTED_LEARNING_RATE = Float(default=0.2, min=1e-6, max=1.0, help="Shrinkage applied to each new tree")
BOOSTED_N_TREES = Int(default=100, min=1, help="Number of boosting rounds (trees)")
FOREST_N_TREES = Int(default=8, min=1, help="Number of trees in the forest")
FOREST_MAX_DEPTH = Int(default=32, min=1, help="Maximum depth of each tree")
FOREST_MIN_LEAF = Int(default=1, min=1, help="Minimum number of training rows per leaf")
FOREST_BOOTSTRAP = Bool(default=True, help="Train each tree on a bootstrap sample (bagging); off: on all rows")
LOGISTIC_L2 = Float(default=1.0, min=0.0, help="L2 regularization weight (0: none)")
LOGISTIC_TOLERANCE = Float(default=1e-7, min=0.0, help="Optimization stops when the loss improves by less")
BOOSTED_DESIGNER_COMPATIBLE = Bool(
    default=False,
    help="Grow trees as the designer's LightGBM trainer does (at most 3 levels deep), so that its "
    "published results reproduce",
)

# The values Tune Model Hyperparameters tries in parameter_range mode: the designer's defaults.
_RANGE_HELP = "Values to try in parameter_range mode: a;b;c, or min:max:count[:log]"
BOOSTED_MAX_LEAVES_RANGE = ValueRange(of=BOOSTED_MAX_LEAVES, default="2; 8; 32; 128", help=_RANGE_HELP)
BOOSTED_MIN_LEAF_RANGE = ValueRange(of=BOOSTED_MIN_LEAF, default="1; 10; 50", help=_RANGE_HELP)
BOOSTED_LEARNING_RATE_RANGE = ValueRange(of=BOOSTED_LEARNING_RATE, default="0.025; 0.05; 0.1; 0.2; 0.4", help=_RANGE_HELP)
BOOSTED_N_TREES_RANGE = ValueRange(of=BOOSTED_N_TREES, default="20; 100; 500", help=_RANGE_HELP)
FOREST_N_TREES_RANGE = ValueRange(of=FOREST_N_TREES, default="1; 8; 32", help=_RANGE_HELP)
FOREST_MAX_DEPTH_RANGE = ValueRange(of=FOREST_MAX_DEPTH, default="1; 16; 64", help=_RANGE_HELP)
FOREST_MIN_LEAF_RANGE = ValueRange(of=FOREST_MIN_LEAF, default="1; 4; 16", help=_RANGE_HELP)
LOGISTIC_L2_RANGE = ValueRange(of=LOGISTIC_L2, default="0.01; 0.1; 1.0", help=_RANGE_HELP)
LOGISTIC_TOLERANCE_RANGE = ValueRange(of=LOGISTIC_TOLERANCE, default="0.0001; 0.0000001", help=_RANGE_HELP)

_BOOSTED_HELP = (
    "Gradient-boosted decision trees (scikit-learn's histogram-based gradient boosting): each "
    "new tree corrects the errors of the ensemble so far.\n\n"
    "- **max_leaves**: leaves per tree; more leaves fit finer interactions but overfit sooner;\n"
    "- **min_samples_per_leaf**: rows a leaf needs; larger values smooth the model;\n"
    "- **learning_rate**: how much each tree contributes;\n"
    "- **n_trees**: boosting rounds. All rounds are run (no early stopping), as in the Azure module;\n"
    "- **designer_compatible**: limit trees to 3 levels, as the designer's LightGBM trainer does "
    "whatever the other settings, so that results published for designer pipelines reproduce.\n\n"
    "Text columns are one-hot encoded; numeric columns are used as is (trees need no scaling). "
    "Missing numeric values are accepted: each split learns which side they go to. "
    "In parameter_range mode, Tune Model Hyperparameters tries the *_range values."
)
_FOREST_HELP = (
    "A random forest: many decision trees, each grown on a resample of the rows with a random "
    "subset of features tried at each split; predictions are averaged.\n\n"
    "- **n_trees**: more trees give steadier predictions and take longer;\n"
    "- **max_depth**: the depth limit of each tree;\n"
    "- **min_samples_per_leaf**: rows a leaf needs.\n\n"
    "Text columns are one-hot encoded; numeric columns are used as is. In parameter_range "
    "mode, Tune Model Hyperparameters tries the *_range values."
)
_POSITIVE_CLASS_HELP = (
    "The label must have exactly two values. The positive class, whose probability Score "
    "Model reports, is the second of them in sorted order (`yes` of no/yes, `1` of 0/1, "
    "`>50K` of <=50K/>50K).\n\n"
)
_LOGISTIC_HELP = (
    "Logistic regression fitted by L-BFGS on standardized numeric features and one-hot "
    "encoded text features.\n\n"
    "- **l2**: L2 regularization weight (scikit-learn's `C` = 1 / l2; 0 turns regularization off);\n"
    "- **tolerance**: the optimizer stops when the loss changes by less than this. A warning "
    "is shown when it stops at its iteration limit first.\n\n"
    "The Azure module's L1 weight and L-BFGS memory size are not offered. In parameter_range "
    "mode, Tune Model Hyperparameters tries the *_range values."
)


class _Learner(Module):
    """A module that outputs one untrained estimator built from its params.

    Supervised learners declare `trainer_mode` and `<param>_range` params (see
    parameter_ranges); Tune Model Hyperparameters rebuilds them with `build` for each
    combination it tries, so `build` must depend on the params alone.
    """

    task: ClassVar[str]
    scaling: ClassVar[str | None] = None  # see STANDARD_SCALING, MINMAX_SCALING
    # Whether the estimator takes missing numeric values as they are (Train Model refuses
    # them for the others, pointing at Clean Missing Data).
    missing_numeric: ClassVar[bool] = False
    # Whether the label may not be negative (counts, for Poisson regression).
    nonnegative_label: ClassVar[bool] = False

    class Outputs:
        model = Output(type=PortType.UNTRAINED_MODEL, help="The untrained model; connect it to Train Model")

    def build(self, params: ParamValues) -> BaseEstimator:
        raise NotImplementedError

    def scaling_for(self, params: ParamValues) -> str | None:
        return self.scaling

    def run(self, ctx: StepContext, params: ParamValues) -> dict[str, Any]:
        meta = {
            "task": self.task, "algorithm": self.id, "version": self.version, "scaling": self.scaling_for(params),
            "missing_numeric": self.missing_numeric, "params": dict(params),
        }
        if self.nonnegative_label:
            meta["nonnegative_label"] = True
        return {"model": Estimator(self.build(params), meta)}


@register
class LinearRegressionModule(_Learner):
    """Linear regression: predicts a number as a weighted sum of the features.

    - **solver = ols**: ordinary least squares with an L2 penalty of weight `l2` (ridge
      regression; plain least squares when `l2` is 0). Exact and fast on tables that fit
      in memory.
    - **solver = sgd**: online gradient descent (scikit-learn `SGDRegressor`): `epochs`
      passes over the shuffled rows with an initial step of `learning_rate` that decreases
      over time; `l2` is the penalty weight. For very large tables.

    Numeric features are standardized and text features one-hot encoded before fitting,
    so `l2` weighs all features alike. The label must be numeric.
    """

    id = "linear_regression"
    name = "Linear Regression"
    keywords = ("predict a number", "ols", "least squares", "regression")
    category = CATEGORY
    task = REGRESSION
    scaling = STANDARD_SCALING

    class Params:
        solver = Choice(choices=("ols", "sgd"), default="ols", help="How the coefficients are fitted",
                        labels={"ols": "Ordinary least squares", "sgd": "Online gradient descent"})
        l2 = Float(default=0.001, min=0.0, help="L2 regularization weight")
        fit_intercept = Bool(default=True, help="Learn a constant term")
        learning_rate = Float(default=0.1, min=1e-9, help="Initial step size", when={"solver": ("sgd",)})
        epochs = Int(default=10, min=1, help="Passes over the data", when={"solver": ("sgd",)})
        seed = SEED
        trainer_mode = TRAINER_MODE
        l2_range = ValueRange(of=Float(min=0.0), default="0.001; 0.01; 0.1", help=_RANGE_HELP)
        learning_rate_range = ValueRange(of=Float(min=1e-9), default="0.025; 0.05; 0.1; 0.2", help=_RANGE_HELP)
        epochs_range = ValueRange(of=Int(min=1), default="1; 10; 100", help=_RANGE_HELP)

    def build(self, params: ParamValues) -> BaseEstimator:
        if params.solver == "sgd":
            # tol=None runs exactly `epochs` passes, like the Azure module, and invscaling
            # is its "decrease learning rate" default.
            return SGDRegressor(
                alpha=params.l2, fit_intercept=params.fit_intercept, learning_rate="invscaling",
                eta0=params.learning_rate, max_iter=params.epochs, tol=None, random_state=params.seed,
            )
        if params.l2 == 0:
            return LinearRegression(fit_intercept=params.fit_intercept)
        return Ridge(alpha=params.l2, fit_intercept=params.fit_intercept)


@register
class BoostedDecisionTreeRegression(_Learner):
    """Boosted decision tree regression: an ensemble of trees, each fitted to the previous errors."""

    help = _BOOSTED_HELP

    id = "boosted_decision_tree_regression"
    name = "Boosted Decision Tree Regression"
    category = CATEGORY
    task = REGRESSION

    missing_numeric = True

    class Params:
        max_leaves = BOOSTED_MAX_LEAVES
        min_samples_per_leaf = BOOSTED_MIN_LEAF
        learning_rate = BOOSTED_LEARNING_RATE
        n_trees = BOOSTED_N_TREES
        seed = SEED
        designer_compatible = BOOSTED_DESIGNER_COMPATIBLE
        trainer_mode = TRAINER_MODE
        max_leaves_range = BOOSTED_MAX_LEAVES_RANGE
        min_samples_per_leaf_range = BOOSTED_MIN_LEAF_RANGE
        learning_rate_range = BOOSTED_LEARNING_RATE_RANGE
        n_trees_range = BOOSTED_N_TREES_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return HistGradientBoostingRegressor(
            max_leaf_nodes=params.max_leaves, min_samples_leaf=params.min_samples_per_leaf,
            learning_rate=params.learning_rate, max_iter=params.n_trees, early_stopping=False,
            random_state=params.seed, max_depth=DESIGNER_TREE_DEPTH if params.designer_compatible else None,
        )


@register
class DecisionForestRegression(_Learner):
    """Decision forest regression: averages the predictions of many decision trees."""

    help = _FOREST_HELP

    id = "decision_forest_regression"
    name = "Decision Forest Regression"
    category = CATEGORY
    task = REGRESSION

    class Params:
        n_trees = FOREST_N_TREES
        max_depth = FOREST_MAX_DEPTH
        min_samples_per_leaf = FOREST_MIN_LEAF
        bootstrap = FOREST_BOOTSTRAP
        seed = SEED
        trainer_mode = TRAINER_MODE
        n_trees_range = FOREST_N_TREES_RANGE
        max_depth_range = FOREST_MAX_DEPTH_RANGE
        min_samples_per_leaf_range = FOREST_MIN_LEAF_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return RandomForestRegressor(
            n_estimators=params.n_trees, max_depth=params.max_depth,
            min_samples_leaf=params.min_samples_per_leaf, bootstrap=params.bootstrap,
            random_state=params.seed,
        )


def _logistic(params: ParamValues) -> LogisticRegression:
    # C is the inverse of the penalty weight; C=inf means no penalty in scikit-learn.
    c = 1.0 / params.l2 if params.l2 > 0 else np.inf
    # The tight default tolerance needs more than scikit-learn's 100 iterations.
    return LogisticRegression(C=c, tol=params.tolerance, max_iter=1000, random_state=params.seed)


@register
class TwoClassLogisticRegression(_Learner):
    """Two-class logistic regression: predicts the probability of the positive class."""

    help = _POSITIVE_CLASS_HELP + _LOGISTIC_HELP

    id = "two_class_logistic_regression"
    name = "Two-Class Logistic Regression"
    keywords = ("binary classification", "yes or no", "probability", "classifier")
    category = CATEGORY
    task = BINARY
    scaling = STANDARD_SCALING

    class Params:
        l2 = LOGISTIC_L2
        tolerance = LOGISTIC_TOLERANCE
        seed = SEED
        trainer_mode = TRAINER_MODE
        l2_range = LOGISTIC_L2_RANGE
        tolerance_range = LOGISTIC_TOLERANCE_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return _logistic(params)


@register
class TwoClassBoostedDecisionTree(_Learner):
    """Two-class boosted decision tree: a boosted tree ensemble for a label with two values."""

    help = _POSITIVE_CLASS_HELP + _BOOSTED_HELP

    id = "two_class_boosted_decision_tree"
    name = "Two-Class Boosted Decision Tree"
    category = CATEGORY
    task = BINARY

    missing_numeric = True

    class Params:
        max_leaves = BOOSTED_MAX_LEAVES
        min_samples_per_leaf = BOOSTED_MIN_LEAF
        learning_rate = BOOSTED_LEARNING_RATE
        n_trees = BOOSTED_N_TREES
        seed = SEED
        designer_compatible = BOOSTED_DESIGNER_COMPATIBLE
        trainer_mode = TRAINER_MODE
        max_leaves_range = BOOSTED_MAX_LEAVES_RANGE
        min_samples_per_leaf_range = BOOSTED_MIN_LEAF_RANGE
        learning_rate_range = BOOSTED_LEARNING_RATE_RANGE
        n_trees_range = BOOSTED_N_TREES_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return HistGradientBoostingClassifier(
            max_leaf_nodes=params.max_leaves, min_samples_leaf=params.min_samples_per_leaf,
            learning_rate=params.learning_rate, max_iter=params.n_trees, early_stopping=False,
            random_state=params.seed, max_depth=DESIGNER_TREE_DEPTH if params.designer_compatible else None,
        )


@register
class TwoClassDecisionForest(_Learner):
    """Two-class decision forest: trees vote on a label with two values; the probability is their average."""

    help = _POSITIVE_CLASS_HELP + _FOREST_HELP

    id = "two_class_decision_forest"
    name = "Two-Class Decision Forest"
    category = CATEGORY
    task = BINARY

    class Params:
        n_trees = FOREST_N_TREES
        max_depth = FOREST_MAX_DEPTH
        min_samples_per_leaf = FOREST_MIN_LEAF
        bootstrap = FOREST_BOOTSTRAP
        seed = SEED
        trainer_mode = TRAINER_MODE
        n_trees_range = FOREST_N_TREES_RANGE
        max_depth_range = FOREST_MAX_DEPTH_RANGE
        min_samples_per_leaf_range = FOREST_MIN_LEAF_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return RandomForestClassifier(
            n_estimators=params.n_trees, max_depth=params.max_depth,
            min_samples_leaf=params.min_samples_per_leaf, bootstrap=params.bootstrap,
            random_state=params.seed,
        )


@register
class MulticlassLogisticRegression(_Learner):
    """Multiclass logistic regression: one multinomial (softmax) model giving a probability per class."""

    help = _LOGISTIC_HELP

    id = "multiclass_logistic_regression"
    name = "Multiclass Logistic Regression"
    keywords = ("softmax", "classification", "classifier", "several classes")
    category = CATEGORY
    task = MULTICLASS
    scaling = STANDARD_SCALING

    class Params:
        l2 = LOGISTIC_L2
        tolerance = LOGISTIC_TOLERANCE
        seed = SEED
        trainer_mode = TRAINER_MODE
        l2_range = LOGISTIC_L2_RANGE
        tolerance_range = LOGISTIC_TOLERANCE_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return _logistic(params)


@register
class MulticlassDecisionForest(_Learner):
    """Multiclass decision forest: trees vote on the class; each class's probability is their average."""

    help = _FOREST_HELP

    id = "multiclass_decision_forest"
    name = "Multiclass Decision Forest"
    category = CATEGORY
    task = MULTICLASS

    class Params:
        n_trees = FOREST_N_TREES
        max_depth = FOREST_MAX_DEPTH
        min_samples_per_leaf = FOREST_MIN_LEAF
        seed = SEED
        trainer_mode = TRAINER_MODE
        n_trees_range = FOREST_N_TREES_RANGE
        max_depth_range = FOREST_MAX_DEPTH_RANGE
        min_samples_per_leaf_range = FOREST_MIN_LEAF_RANGE

    def build(self, params: ParamValues) -> BaseEstimator:
        return RandomForestClassifier(
            n_estimators=params.n_trees, max_depth=params.max_depth,
            min_samples_leaf=params.min_samples_per_leaf, random_state=params.seed,
        )


def first_rows_as_centers(X: np.ndarray, n_clusters: int, random_state: Any) -> np.ndarray:
    """K-means init that takes the first `n_clusters` rows of the training data as centers.

    A module-level function, not a lambda, so that the model file can name it (and the
    loader trusts it, being in `modules.builtin`).
    """
    # A copy, not a view: KMeans updates the centers in place, which would overwrite X.
    return np.array(X[:n_clusters], copy=True)


@register
class KMeansClustering(_Learner):
    """K-means clustering: groups rows into `n_clusters` clusters around their centers.

    - **init**: how the first centers are chosen: `kmeans++` (spread-out random rows; the
      best run of several is kept), `random` (random rows, best of 10 runs) or `first_n`
      (the first `n_clusters` rows of the training table, one deterministic run);
    - **max_iter**: iterations of assigning rows and moving centers;
    - **normalize**: rescale each numeric feature to [0, 1] (min-max) before clustering, so
      that no feature dominates the Euclidean distance just by its unit;
    - **seed**: random seed for the initialization.

    Connect to Train Clustering Model. Text columns you select are one-hot encoded.
    """

    id = "kmeans_clustering"
    name = "K-Means Clustering"
    keywords = ("clusters", "segmentation", "grouping", "unsupervised")
    category = CATEGORY
    task = CLUSTERING

    class Outputs:
        model = Output(type=PortType.UNTRAINED_CLUSTER_MODEL, help="The untrained clustering model")

    class Params:
        n_clusters = Int(default=2, min=2, help="Number of clusters")
        init = Choice(choices=("kmeans++", "random", "first_n"), default="kmeans++", help="How initial centers are chosen")
        max_iter = Int(default=100, min=1, help="Maximum number of iterations")
        normalize = Bool(default=True, help="Rescale numeric features to [0, 1] before clustering")
        seed = SEED

    def scaling_for(self, params: ParamValues) -> str | None:
        return MINMAX_SCALING if params.normalize else None

    def build(self, params: ParamValues) -> BaseEstimator:
        init: Any = {"kmeans++": "k-means++", "random": "random", "first_n": first_rows_as_centers}[params.init]
        return KMeans(
            n_clusters=params.n_clusters, init=init, n_init=1 if params.init == "first_n" else "auto",
            max_iter=params.max_iter, random_state=params.seed,
        )


# --- linear classifiers, neural networks, boosting for many classes, Poisson -----------------


class MarginCalibrated(ClassifierMixin, BaseEstimator):
    """A two-class linear classifier (SVM, perceptron) whose margins become probabilities
    through a logistic curve fitted to the training rows' margins (Platt scaling).

    The label is the class whose probability is above 0.5, so the scored labels and the
    scored probabilities always agree.
    """

    def __init__(self, estimator: BaseEstimator | None = None) -> None:
        self.estimator = estimator

    def fit(self, X: Any, y: Any) -> "MarginCalibrated":
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.classes_ = self.estimator_.classes_
        self.calibration_ = LogisticRegression().fit(self._margins(X), y)
        return self

    def _margins(self, X: Any) -> np.ndarray:
        return np.asarray(self.estimator_.decision_function(X)).reshape(-1, 1)

    def decision_function(self, X: Any) -> np.ndarray:
        return np.asarray(self.estimator_.decision_function(X))

    def predict_proba(self, X: Any) -> np.ndarray:
        return np.asarray(self.calibration_.predict_proba(self._margins(X)))

    def predict(self, X: Any) -> np.ndarray:
        return np.asarray(self.classes_)[self.predict_proba(X).argmax(axis=1)]


_CALIBRATION_HELP = (
    "Probabilities come from a logistic curve fitted to the training rows' margins (Platt "
    "scaling); the scored label is the class whose probability is above 0.5."
)


@register
class TwoClassSupportVectorMachine(_Learner):
    """Two-class support vector machine: a linear model with the widest margin between the two classes."""

    help = _POSITIVE_CLASS_HELP + (
        "A linear SVM trained by stochastic gradient descent on the hinge loss (scikit-learn's "
        "`SGDClassifier`, as the designer's Pegasos solver).\n\n"
        "- **iterations**: passes over the shuffled rows;\n"
        "- **l2**: L2 regularization weight, the designer's lambda (scikit-learn's `alpha`);\n"
        "- **normalize_features**: standardize numeric features first (recommended: the margin "
        "depends on the features' scale).\n\n"
        + _CALIBRATION_HELP + " The designer's projection to the unit sphere is not offered. "
        "In parameter_range mode, Tune Model Hyperparameters tries the *_range values."
    )

    id = "two_class_support_vector_machine"
    name = "Two-Class Support Vector Machine"
    category = CATEGORY
    task = BINARY

    class Params:
        iterations = Int(default=1, min=1, help="Passes over the training rows")
        l2 = Float(default=0.001, min=1e-12, label="Lambda", help="L2 regularization weight (the designer's lambda)")
        normalize_features = Bool(default=True, help="Standardize numeric features before training")
        seed = SEED
        trainer_mode = TRAINER_MODE
        iterations_range = ValueRange(of=Int(min=1), default="1; 10; 100", help=_RANGE_HELP)
        l2_range = ValueRange(of=Float(min=1e-12), default="0.00001; 0.0001; 0.001; 0.01; 0.1", help=_RANGE_HELP)

    def scaling_for(self, params: ParamValues) -> str | None:
        return STANDARD_SCALING if params.normalize_features else None

    def build(self, params: ParamValues) -> BaseEstimator:
        # tol=None runs exactly `iterations` passes, as the designer does.
        return MarginCalibrated(SGDClassifier(
            loss="hinge", alpha=params.l2, max_iter=params.iterations, tol=None, random_state=params.seed,
        ))


@register
class TwoClassAveragedPerceptron(_Learner):
    """Two-class averaged perceptron: a linear classifier whose weights are averaged over its updates."""

    help = _POSITIVE_CLASS_HELP + (
        "The perceptron updates its weights on each misclassified row; the averaged perceptron "
        "keeps the average of all the weights it went through, which generalizes better "
        "(scikit-learn's `SGDClassifier` with the perceptron loss, a constant learning rate and "
        "averaging). Numeric features are standardized first.\n\n"
        "- **learning_rate**: the size of each update;\n"
        "- **iterations**: passes over the shuffled rows.\n\n"
        + _CALIBRATION_HELP + " In parameter_range mode, Tune Model Hyperparameters tries the "
        "*_range values."
    )

    id = "two_class_averaged_perceptron"
    name = "Two-Class Averaged Perceptron"
    category = CATEGORY
    task = BINARY
    scaling = STANDARD_SCALING

    class Params:
        learning_rate = Float(default=1.0, min=1e-9, help="Size of each weight update")
        iterations = Int(default=10, min=1, help="Passes over the training rows")
        seed = SEED
        trainer_mode = TRAINER_MODE
        learning_rate_range = ValueRange(of=Float(min=1e-9), default="0.1; 0.5; 1.0", help=_RANGE_HELP)
        iterations_range = ValueRange(of=Int(min=1), default="1; 10", help=_RANGE_HELP)

    def build(self, params: ParamValues) -> BaseEstimator:
        return MarginCalibrated(SGDClassifier(
            loss="perceptron", penalty=None, learning_rate="constant", eta0=params.learning_rate,
            max_iter=params.iterations, tol=None, average=True, random_state=params.seed,
        ))


# How a neural network rescales numeric features: the designer's normalizer choices.
_NORMALIZERS = {"minmax": MINMAX_SCALING, "gaussian": STANDARD_SCALING, "none": None}
NN_NORMALIZER = Choice(
    choices=tuple(_NORMALIZERS), default="minmax",
    help="Rescale numeric features: min-max to [0, 1], gaussian (z-score), or none",
)
NN_HIDDEN_NODES = Int(default=100, min=1, max=10_000, help="Nodes of the hidden layer")
NN_ITERATIONS = Int(default=100, min=1, help="Passes over the training rows (at most)")
NN_MOMENTUM = Float(default=0.0, min=0.0, max=0.99, help="Momentum of the weight updates")
NN_SHUFFLE = Bool(default=True, help="Shuffle the rows at each pass")
NN_ITERATIONS_RANGE = ValueRange(of=NN_ITERATIONS, default="20; 40; 80; 160", help=_RANGE_HELP)
_NN_HELP = (
    "A fully connected network with one hidden layer of sigmoid nodes, trained by stochastic "
    "gradient descent (scikit-learn's MLP).\n\n"
    "- **hidden_nodes**: the hidden layer's size;\n"
    "- **learning_rate**, **momentum**: the gradient steps;\n"
    "- **iterations**: passes over the rows; training stops earlier when the loss has not "
    "improved for 10 passes (a warning says when it stopped at the limit instead);\n"
    "- **normalizer**: how numeric features are rescaled first; text features are one-hot encoded.\n\n"
    "The designer's custom network definitions (Net#) and initial weight diameter are not "
    "offered. In parameter_range mode, Tune Model Hyperparameters tries the *_range values."
)


def network_params(*, default_rate: float, rates: str) -> type:
    """The designer's neural network params, with its default learning rate and range."""
    rate = Float(min=1e-9, max=10.0)

    class Params:
        hidden_nodes = NN_HIDDEN_NODES
        learning_rate = Float(default=default_rate, min=rate.min, max=rate.max, help="Step size of the gradient descent")
        iterations = NN_ITERATIONS
        momentum = NN_MOMENTUM
        normalizer = NN_NORMALIZER
        shuffle = NN_SHUFFLE
        seed = SEED
        trainer_mode = TRAINER_MODE
        learning_rate_range = ValueRange(of=rate, default=rates, help=_RANGE_HELP)
        iterations_range = NN_ITERATIONS_RANGE

    return Params


class _NeuralNetwork(_Learner):
    """How the designer's three networks rescale features and set up scikit-learn's MLP."""

    def scaling_for(self, params: ParamValues) -> str | None:
        return _NORMALIZERS[params.normalizer]

    network: ClassVar[type[MLPClassifier] | type[MLPRegressor]]

    def build(self, params: ParamValues) -> BaseEstimator:
        return self.network(
            hidden_layer_sizes=(params.hidden_nodes,), activation="logistic", solver="sgd",
            learning_rate_init=params.learning_rate, momentum=params.momentum, nesterovs_momentum=False,
            max_iter=params.iterations, shuffle=params.shuffle, random_state=params.seed,
        )


@register
class TwoClassNeuralNetwork(_NeuralNetwork):
    """Two-class neural network: a network with one hidden layer predicting the probability of the positive class."""

    help = _POSITIVE_CLASS_HELP + _NN_HELP

    id = "two_class_neural_network"
    name = "Two-Class Neural Network"
    category = CATEGORY
    task = BINARY

    Params = network_params(default_rate=0.1, rates="0.01; 0.02; 0.04")
    network = MLPClassifier


@register
class MulticlassNeuralNetwork(TwoClassNeuralNetwork):
    """Multiclass neural network: a network with one hidden layer giving a probability per class."""

    help = _NN_HELP

    id = "multiclass_neural_network"
    name = "Multiclass Neural Network"
    task = MULTICLASS


@register
class NeuralNetworkRegression(_NeuralNetwork):
    """Neural network regression: a network with one hidden layer predicting a number."""

    help = _NN_HELP + " The label must be numeric; its output node is linear."

    id = "neural_network_regression"
    name = "Neural Network Regression"
    category = CATEGORY
    task = REGRESSION

    Params = network_params(default_rate=0.005, rates="0.001; 0.005; 0.01")
    network = MLPRegressor


@register
class MulticlassBoostedDecisionTree(TwoClassBoostedDecisionTree):
    """Multiclass boosted decision tree: boosted tree ensembles giving a probability per class."""

    help = _BOOSTED_HELP

    id = "multiclass_boosted_decision_tree"
    name = "Multiclass Boosted Decision Tree"
    task = MULTICLASS


@register
class PoissonRegression(_Learner):
    """Poisson regression: predicts counts, whose logarithm is a weighted sum of the features."""

    help = (
        "A generalized linear model with a log link for labels that count things (visits, "
        "calls, defects): the label must be a number that is not negative. Fitted by L-BFGS "
        "(scikit-learn's `PoissonRegressor`) on standardized numeric features and one-hot "
        "encoded text features.\n\n"
        "- **l2**: L2 regularization weight, on the mean deviance over the rows "
        "(scikit-learn's `alpha`; the designer weighs the summed loss, hence the smaller default);\n"
        "- **tolerance**: the optimizer stops when the loss changes by less than this.\n\n"
        "The designer's L1 weight and L-BFGS memory size are not offered. In parameter_range "
        "mode, Tune Model Hyperparameters tries the *_range values."
    )

    id = "poisson_regression"
    name = "Poisson Regression"
    category = CATEGORY
    task = REGRESSION
    scaling = STANDARD_SCALING
    nonnegative_label = True

    class Params:
        l2 = Float(default=0.01, min=0.0, help="L2 regularization weight (0: none)")
        tolerance = Float(default=1e-7, min=0.0, help="Optimization stops when the loss improves by less")
        seed = SEED
        trainer_mode = TRAINER_MODE
        l2_range = ValueRange(of=Float(min=0.0), default="0.001; 0.01; 0.1; 1.0", help=_RANGE_HELP)
        tolerance_range = ValueRange(of=Float(min=0.0), default="0.0001; 0.0000001", help=_RANGE_HELP)

    def build(self, params: ParamValues) -> BaseEstimator:
        # The tight default tolerance needs more than scikit-learn's 100 iterations.
        return PoissonRegressor(alpha=params.l2, tol=params.tolerance, max_iter=1000)


# --- quantile regression --------------------------------------------------------------------


QUANTILE_PREFIX = "Quantile:"


@dataclass(frozen=True, kw_only=True)
class Quantiles(Param):
    """Quantiles to estimate, written `0.25; 0.5; 0.75`: each strictly between 0 and 1."""

    kind: ClassVar[str] = "string"

    def _clean(self, value: Any) -> list[float]:
        parts = value if isinstance(value, list) else str(value).replace(",", ";").split(";")
        quantiles = []
        for part in parts:
            if isinstance(part, str) and not part.strip():
                continue
            try:
                q = float(part)
            except (TypeError, ValueError):
                raise ParamError(f"{part!r} is not a number") from None
            if not 0 < q < 1:
                raise ParamError(f"quantile {q} is not strictly between 0 and 1")
            quantiles.append(q)
        if not quantiles:
            raise ParamError("holds no quantile")
        return sorted(set(quantiles))


class QuantileForest(RegressorMixin, BaseEstimator):
    """Quantile regression forest (Meinshausen, 2006): a random forest whose leaves keep the
    training labels, so that each prediction is a distribution, not only a mean.

    A row's distribution weighs each training row by how often it shares a leaf with the
    row, each tree's leaf counting equally; its quantiles are read from those weights.
    `predict` gives the median.
    """

    def __init__(
        self, *, n_estimators: int = 100, max_leaf_nodes: int = 20, min_samples_leaf: int = 10,
        max_samples: float = 0.7, max_features: float = 0.7, quantiles: tuple[float, ...] = (0.25, 0.5, 0.75),
        random_state: int = 0,
    ) -> None:
        self.n_estimators = n_estimators
        self.max_leaf_nodes = max_leaf_nodes
        self.min_samples_leaf = min_samples_leaf
        self.max_samples = max_samples
        self.max_features = max_features
        self.quantiles = quantiles
        self.random_state = random_state

    def fit(self, X: Any, y: Any) -> "QuantileForest":
        self.forest_ = RandomForestRegressor(
            n_estimators=self.n_estimators, max_leaf_nodes=self.max_leaf_nodes,
            min_samples_leaf=self.min_samples_leaf, max_samples=self.max_samples,
            max_features=self.max_features, random_state=self.random_state,
        ).fit(X, y)
        order = np.argsort(np.asarray(y, dtype=float), kind="stable")
        self.sorted_y_ = np.asarray(y, dtype=float)[order]
        self.sorted_leaves_ = self.forest_.apply(X)[order]
        return self

    def predict_quantiles(self, X: Any, quantiles: Any = None) -> np.ndarray:
        """(rows, quantiles) array of the estimated quantiles, by default `self.quantiles`."""
        wanted = np.asarray(self.quantiles if quantiles is None else quantiles, dtype=float)
        leaves = self.forest_.apply(X)
        n_train, n_trees = self.sorted_leaves_.shape
        out = np.empty((len(leaves), len(wanted)))
        chunk = max(1, 2_000_000 // max(n_train, 1))  # rows whose weights are held at once
        for start in range(0, len(leaves), chunk):
            part = leaves[start:start + chunk]
            weights = np.zeros((len(part), n_train))
            for t in range(n_trees):
                shared = part[:, t, None] == self.sorted_leaves_[None, :, t]
                weights += shared / shared.sum(axis=1, keepdims=True)
            cumulative = np.cumsum(weights, axis=1) / n_trees
            for j, q in enumerate(wanted):
                # The first training label (in sorted order) whose cumulative weight reaches q.
                index = np.minimum((cumulative < q - 1e-12).sum(axis=1), n_train - 1)
                out[start:start + chunk, j] = self.sorted_y_[index]
        return out

    def predict(self, X: Any) -> np.ndarray:
        return self.predict_quantiles(X, [0.5])[:, 0]


@register
class FastForestQuantileRegression(_Learner):
    """Fast forest quantile regression: predicts quantiles of the label (e.g. its quartiles), not only a value."""

    help = (
        "A quantile regression forest (Meinshausen's method, as the designer's module): a "
        "random forest whose leaves keep the training labels, so that for each row it estimates "
        "the distribution of the label and reads the requested quantiles from it. Built on "
        "scikit-learn's `RandomForestRegressor`.\n\n"
        f"Score Model adds one `{QUANTILE_PREFIX}<q>` column per quantile (e.g. `Quantile:0.25`) "
        "and `Scored Labels`, the median (0.5 quantile), which Evaluate Model measures.\n\n"
        "- **quantiles**: the quantiles to estimate, e.g. `0.25; 0.5; 0.75`;\n"
        "- **n_trees**, **max_leaves**, **min_samples_per_leaf**: the trees' number and size;\n"
        "- **bagging_fraction**: the share of rows (drawn with replacement) each tree is grown on;\n"
        "- **feature_fraction**: the share of features tried at each split.\n\n"
        "The label must be numeric. In parameter_range mode, Tune Model Hyperparameters tries "
        "the *_range values."
    )

    id = "fast_forest_quantile_regression"
    name = "Fast Forest Quantile Regression"
    category = CATEGORY
    task = REGRESSION

    class Params:
        n_trees = Int(default=100, min=1, max=10_000, help="Number of trees")
        max_leaves = Int(default=20, min=2, help="Maximum number of leaves per tree")
        min_samples_per_leaf = Int(default=10, min=1, help="Minimum number of training rows per leaf")
        bagging_fraction = Float(default=0.7, min=0.01, max=1.0, help="Share of rows each tree is grown on")
        feature_fraction = Float(default=0.7, min=0.01, max=1.0, help="Share of features tried at each split")
        quantiles = Quantiles(default="0.25; 0.5; 0.75", help="Quantiles to estimate, separated by ';'")
        seed = SEED
        trainer_mode = TRAINER_MODE
        n_trees_range = ValueRange(of=Int(min=1, max=10_000), default="16; 32; 64", help=_RANGE_HELP)
        max_leaves_range = ValueRange(of=Int(min=2), default="16; 32; 64", help=_RANGE_HELP)
        min_samples_per_leaf_range = ValueRange(of=Int(min=1), default="1; 5; 10", help=_RANGE_HELP)
        bagging_fraction_range = ValueRange(of=Float(min=0.01, max=1.0), default="0.25; 0.5; 0.75", help=_RANGE_HELP)
        feature_fraction_range = ValueRange(of=Float(min=0.01, max=1.0), default="0.25; 0.5; 0.75", help=_RANGE_HELP)

    def build(self, params: ParamValues) -> BaseEstimator:
        return QuantileForest(
            n_estimators=params.n_trees, max_leaf_nodes=params.max_leaves,
            min_samples_leaf=params.min_samples_per_leaf, max_samples=params.bagging_fraction,
            max_features=params.feature_fraction, quantiles=tuple(params.quantiles), random_state=params.seed,
        )


# --- multiclass from two-class learners -------------------------------------------------------


class OneVsOneWithProbabilities(OneVsOneClassifier):
    """One-vs-one with class probabilities: each class's share of its votes plus confidence
    (scikit-learn's decision values), so that the most probable class is the predicted one."""

    def predict_proba(self, X: Any) -> np.ndarray:
        if len(self.classes_) == 2:  # a single pair: its own model's probabilities
            return np.asarray(self.estimators_[0].predict_proba(X))
        # Votes plus confidences in (-1/3, 1/3): the most voted class has at least 1/2 > 0.
        votes = np.clip(np.asarray(self.decision_function(X), dtype=float), 0.0, None)
        return votes / votes.sum(axis=1, keepdims=True)


def wrapped_for_strategy(meta: dict[str, Any], estimator: BaseEstimator) -> BaseEstimator:
    """`estimator` (a two-class learner's) wrapped as `meta`'s multiclass strategy says, if any."""
    strategy = meta.get("multiclass_strategy")
    if strategy == ONE_VS_ALL:
        return OneVsRestClassifier(estimator)
    if strategy == ONE_VS_ONE:
        return OneVsOneWithProbabilities(estimator)
    return estimator


class _MulticlassWrapper(Module):
    strategy: ClassVar[str]
    category = CATEGORY

    class Inputs:
        model = Input(type=PortType.UNTRAINED_MODEL, help="An untrained two-class learner")

    class Outputs:
        model = Output(type=PortType.UNTRAINED_MODEL, help="The untrained multiclass model; connect it to Train Model")

    def run(self, ctx: StepContext, params: ParamValues, model: Estimator) -> dict[str, Any]:
        if model.meta.get("task") != BINARY or model.meta.get("multiclass_strategy"):
            raise ModuleError(
                f"{self.name} needs an untrained two-class learner (Two-Class Logistic Regression, "
                f"Two-Class Support Vector Machine…), got a {model.meta.get('task')} model"
                f" ({model.meta.get('algorithm')})",
                code="model_type", port="model",
            )
        # The two-class learner's own algorithm, params and scaling stay in the meta, so that
        # Tune Model Hyperparameters sweeps its ranges and wraps each candidate again.
        meta = {**model.meta, "task": MULTICLASS, "multiclass_strategy": self.strategy}
        return {"model": Estimator(wrapped_for_strategy(meta, clone(model.obj)), meta)}


@register
class OneVsAllMulticlass(_MulticlassWrapper):
    """One-vs-all multiclass: one two-class model per class, each telling that class from all the others."""

    help = (
        "Turns a two-class learner into a multiclass one (scikit-learn's `OneVsRestClassifier`): "
        "Train Model trains one copy of it per class, on that class against all the others; a "
        "row's probability for each class is that model's, normalized to sum to 1, and the "
        "predicted class is the most probable.\n\n"
        "Connect an untrained two-class learner. Its params are used for every class; in "
        "parameter_range mode, Tune Model Hyperparameters sweeps them."
    )

    id = "one_vs_all_multiclass"
    name = "One-vs-All Multiclass"
    strategy = ONE_VS_ALL


@register
class OneVsOneMulticlass(_MulticlassWrapper):
    """One-vs-one multiclass: one two-class model per pair of classes, which vote."""

    help = (
        "Turns a two-class learner into a multiclass one (scikit-learn's `OneVsOneClassifier`): "
        "Train Model trains one copy of it per pair of classes, on the rows of those two classes; "
        "each model votes for one of its pair, and the class with the most votes is predicted "
        "(ties go to the class with the most confident votes). A class's probability is its "
        "share of the votes, each class's votes adjusted by its models' confidence (by less than "
        "a third of a vote).\n\n"
        "Connect an untrained two-class learner. Its params are used for every pair; in "
        "parameter_range mode, Tune Model Hyperparameters sweeps them."
    )

    id = "one_vs_one_multiclass"
    name = "One-vs-One Multiclass"
    strategy = ONE_VS_ONE


# --- anomaly detection ------------------------------------------------------------------------


ANOMALY_ERROR_QUANTILE = 0.99  # of the training rows' errors: where a row starts to be an anomaly


class PCAAnomalyDetector(BaseEstimator):
    """Scores rows by how badly the principal components of normal data reconstruct them.

    Training fits a PCA; a row's error is its squared distance to its reconstruction from the
    components. With `t` the 99th percentile of the training rows' errors, a row of error `e`
    gets the probability `e / (e + t)` of being an anomaly: 0.5 at `t`, and near 1 far above it.
    Classes are 0 (normal) and 1 (anomaly).
    """

    def __init__(self, *, n_components: int = 2, oversampling: int = 2, random_state: int = 0) -> None:
        self.n_components = n_components
        self.oversampling = oversampling
        self.random_state = random_state

    def fit(self, X: Any, y: Any = None) -> "PCAAnomalyDetector":
        X = np.asarray(X, dtype=float)
        # Fewer components than features, or nothing would be left to measure errors in.
        self.n_components_ = max(1, min(self.n_components, X.shape[1] - 1, X.shape[0] - 1))
        self.pca_ = PCA(
            n_components=self.n_components_, svd_solver="randomized", n_oversamples=self.oversampling,
            random_state=self.random_state,
        ).fit(X)
        self.threshold_ = max(float(np.quantile(self.errors(X), ANOMALY_ERROR_QUANTILE)), np.finfo(float).tiny)
        self.classes_ = np.array([0, 1])
        return self

    def errors(self, X: Any) -> np.ndarray:
        X = np.asarray(X, dtype=float)
        return np.asarray(((X - self.pca_.inverse_transform(self.pca_.transform(X))) ** 2).sum(axis=1))

    def predict_proba(self, X: Any) -> np.ndarray:
        errors = self.errors(X)
        anomaly = errors / (errors + self.threshold_)
        return np.column_stack([1.0 - anomaly, anomaly])

    def predict(self, X: Any) -> np.ndarray:
        return (self.predict_proba(X)[:, 1] > 0.5).astype(np.int64)


@register
class PCABasedAnomalyDetection(_Learner):
    """PCA-based anomaly detection: flags rows that the principal components of normal data reconstruct badly."""

    help = (
        "Learns the principal components of the training rows (mostly normal data) and "
        "scores a row by how far it lies from the space they span. Connect it to Train Anomaly "
        "Detection Model, then score with Score Model, which adds:\n\n"
        "- `Scored Probabilities`: `e / (e + t)`, where `e` is the row's squared reconstruction "
        "error and `t` the 99th percentile of the training rows' errors;\n"
        "- `Scored Labels`: 1 (anomaly) when that probability is above 0.5, i.e. when the row is "
        "reconstructed worse than 99% of the training rows; else 0.\n\n"
        "Evaluate Model measures it as a two-class model when the scored table keeps a 0/1 "
        "label (1: anomaly).\n\n"
        "- **n_components**: principal components kept (at most the number of features minus one);\n"
        "- **oversampling**: extra components computed by the randomized PCA, for accuracy;\n"
        "- **mean_normalization**: standardize numeric features first, so that features in large "
        "units do not dominate the distances (text features are one-hot encoded).\n\n"
        "Tune Model Hyperparameters needs labels, so this learner has no parameter_range mode."
    )

    id = "pca_based_anomaly_detection"
    name = "PCA-Based Anomaly Detection"
    keywords = ("outliers", "fraud", "anomalies", "unusual rows")
    category = ANOMALY_CATEGORY
    task = ANOMALY_DETECTION

    class Params:
        n_components = Int(default=2, min=1, max=1000, help="Principal components to keep")
        oversampling = Int(default=2, min=0, max=100, help="Extra components computed by the randomized PCA")
        mean_normalization = Bool(default=False, help="Standardize numeric features before the PCA")
        seed = SEED

    def scaling_for(self, params: ParamValues) -> str | None:
        return STANDARD_SCALING if params.mean_normalization else None

    def build(self, params: ParamValues) -> BaseEstimator:
        return PCAAnomalyDetector(
            n_components=params.n_components, oversampling=params.oversampling, random_state=params.seed,
        )
