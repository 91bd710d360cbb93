"""Port types and column kinds: the vocabulary shared by modules, the engine and the canvas."""
from __future__ import annotations

import enum


class PortType(str, enum.Enum):
    DATAFRAME = "DataFrame"
    UNTRAINED_MODEL = "UntrainedModel"
    TRAINED_MODEL = "TrainedModel"
    UNTRAINED_CLUSTER_MODEL = "UntrainedClusterModel"
    TRAINED_CLUSTER_MODEL = "TrainedClusterModel"
    TRANSFORM = "Transform"
    FILES = "Files"

    def accepts(self, other: "PortType") -> bool:
        """Whether an output of type `other` may feed an input of this type."""
        return self is other


ESTIMATOR_PORT_TYPES = frozenset(
    {
        PortType.UNTRAINED_MODEL,
        PortType.TRAINED_MODEL,
        PortType.UNTRAINED_CLUSTER_MODEL,
        PortType.TRAINED_CLUSTER_MODEL,
        PortType.TRANSFORM,
    }
)


class ColumnKind(str, enum.Enum):
    NUMERIC = "numeric"
    STRING = "string"
    CATEGORICAL = "categorical"
    BOOLEAN = "boolean"
    DATETIME = "datetime"


class ColumnRole(str, enum.Enum):
    FEATURE = "feature"
    LABEL = "label"
    SCORE = "score"
