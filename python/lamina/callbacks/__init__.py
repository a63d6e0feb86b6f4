"""Callbacks (`keras.callbacks`). Saving callbacks (ModelCheckpoint,
BackupAndRestore) come with model saving."""

from lamina.callbacks.callback import Callback
from lamina.callbacks.callback_list import CallbackList
from lamina.callbacks.early_stopping import EarlyStopping
from lamina.callbacks.history import History
from lamina.callbacks.lr_callbacks import LearningRateScheduler, ReduceLROnPlateau
from lamina.callbacks.misc import CSVLogger, LambdaCallback, TerminateOnNaN
from lamina.callbacks.progbar_logger import ProgbarLogger

__all__ = [
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
