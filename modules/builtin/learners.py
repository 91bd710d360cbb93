"""Machine learning algorithms: modules that output an untrained model.

Each learner outputs an `Estimator` holding a bare scikit-learn estimator and meta
`{"task", "algorithm", "scaling", "params"}`. Train Model (or Train Clustering Model)
wraps it in a Pipeline that one-hot encodes text features and, where `scaling` says so,
rescales numeric ones, because only then does it know the table's columns.
"""
from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.cluster import KMeans
from sklearn.ensemble import (
    HistGradientBoostingClassifier, HistGradientBoostingRegressor, RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge, SGDRegressor

from modules.sdk import (
    Bool, Choice, Estimator, Float, Int, Module, Output, ParamValues, PortType, StepContext, register,
)

from .parameter_ranges import TRAINER_MODE, ValueRange

CATEGORY = "Machine Learning Algorithms"

# Tasks, as recorded in model meta; Train/Score/Evaluate Model key their behaviour on them.
REGRESSION = "regression"
BINARY = "binary"
MULTICLASS = "multiclass"
CLUSTERING = "clustering"

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
