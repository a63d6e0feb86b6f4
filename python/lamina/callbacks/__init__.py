"""Callbacks (`keras.callbacks`)."""

from lamina.callbacks.callback import Callback
from lamina.callbacks.callback_list import CallbackList
from lamina.callbacks.early_stopping import EarlyStopping
from lamina.callbacks.history import History
from lamina.callbacks.lr_callbacks import LearningRateScheduler, ReduceLROnPlateau
from lamina.callbacks.misc import CSVLogger, LambdaCallback, TerminateOnNaN
from lamina.callbacks.progbar_logger import ProgbarLogger
from lamina.callbacks.saving_callbacks import BackupAndRestore, ModelCheckpoint
from lamina.callbacks.tensorboard import TensorBoard

__all__ = [
    "BackupAndRestore",
    "ModelCheckpoint",
    "TensorBoard",
    "Callback",
    "CallbackList",
    "CSVLogger",
    "EarlyStopping",
    "History",
    "LambdaCallback",
    "LearningRateScheduler",
    "ProgbarLogger",
    "ReduceLROnPlateau",
    "TerminateOnNaN",
]
