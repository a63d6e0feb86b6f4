"""Utilities (`keras.utils`)."""

from lamina.saving.serialization_lib import (  # noqa: F401
    CustomObjectScope,
    custom_object_scope,
    deserialize_keras_object,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
    serialize_keras_object,
)
from lamina.trainers.data_adapters import pack_x_y_sample_weight, unpack_x_y_sample_weight  # noqa: F401
from lamina.utils.numerical_utils import normalize, to_categorical  # noqa: F401
from lamina.utils.model_visualization import plot_model  # noqa: F401
from lamina.utils.plot_utils import plot_history  # noqa: F401
from lamina.utils.progbar import Progbar  # noqa: F401
from lamina.utils.py_dataset import PyDataset, Sequence  # noqa: F401
from lamina.utils.rng_utils import set_random_seed  # noqa: F401
from lamina.utils.sequence_utils import pad_sequences  # noqa: F401
from lamina.utils.dataset_utils import WordTokenizer, split_dataset  # noqa: F401
from lamina.utils.image_utils import array_to_img, image_grid, img_to_array, load_img, save_img  # noqa: F401
