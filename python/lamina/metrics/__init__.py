"""Metrics (`keras.metrics`)."""

import inspect

from lamina.losses import (
    binary_crossentropy,
    categorical_crossentropy,
    categorical_hinge,
    hinge,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from lamina.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from lamina.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from lamina.metrics.f_score_metrics import F1Score, FBetaScore
from lamina.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from lamina.metrics.metric import Metric
from lamina.metrics.metrics_utils import confusion_matrix
from lamina.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CategoricalHinge,
    Hinge,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from lamina.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from lamina.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)

ALL_OBJECTS = {
    Metric, Mean, Sum, MeanMetricWrapper, Accuracy, BinaryAccuracy, CategoricalAccuracy,
    SparseCategoricalAccuracy, TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy, AUC,
    FalseNegatives, FalsePositives, Precision, Recall, TrueNegatives, TruePositives, F1Score,
    FBetaScore, MeanIoU, IoU, BinaryIoU, OneHotIoU, OneHotMeanIoU, BinaryCrossentropy, CategoricalCrossentropy, SparseCategoricalCrossentropy,
    KLDivergence, Poisson, Hinge, SquaredHinge, CategoricalHinge, CosineSimilarity, LogCoshError,
    MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError, MeanSquaredLogarithmicError,
    R2Score, RootMeanSquaredError,
}
ALL_OBJECTS_DICT = {cls.__name__: cls for cls in ALL_OBJECTS}
ALL_OBJECTS_DICT.update(
    {
        fn.__name__: fn
        for fn in (
            accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
            top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
            categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
            mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
            kl_divergence, poisson, hinge, squared_hinge, categorical_hinge, log_cosh,
        )
    }
)
ALL_OBJECTS_DICT.update(
    {
        "acc": accuracy,
        "ACC": accuracy,
        "bce": binary_crossentropy,
        "BCE": binary_crossentropy,
        "mse": mean_squared_error,
        "MSE": mean_squared_error,
        "mae": mean_absolute_error,
        "MAE": mean_absolute_error,
        "mape": mean_absolute_percentage_error,
        "MAPE": mean_absolute_percentage_error,
        "msle": mean_squared_logarithmic_error,
        "MSLE": mean_squared_logarithmic_error,
        "rmse": RootMeanSquaredError,
        "auc": AUC,
        "AUC": AUC,
        "precision": Precision,
        "recall": Recall,
        "f1_score": F1Score,
        "r2_score": R2Score,
        "kld": kl_divergence,
        "logcosh": log_cosh,
    }
)

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error


def serialize(metric):
    from lamina.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(metric)


def deserialize(config, custom_objects=None):
    from lamina.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects, module_objects=ALL_OBJECTS_DICT)


def get(identifier):
    """A metric (function or Metric instance) from a name, config, class or callable."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            from lamina.saving.serialization_lib import get_registered_object

            obj = get_registered_object(identifier)
        if obj is None:
            raise ValueError(
                f"Could not interpret metric identifier: {identifier!r}. Known metrics: "
                + ", ".join(sorted(k for k in ALL_OBJECTS_DICT if k[0].islower()))
            )
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj) or isinstance(obj, Metric):
        return obj
    raise ValueError(f"Could not interpret metric identifier: {identifier}")
