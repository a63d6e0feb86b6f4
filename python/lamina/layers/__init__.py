"""Layers (`keras.layers`)."""

from lamina.layers.activations.activation import Activation
from lamina.layers.activations.elu import ELU
from lamina.layers.activations.leaky_relu import LeakyReLU
from lamina.layers.activations.prelu import PReLU
from lamina.layers.activations.relu import ReLU
from lamina.layers.activations.softmax import Softmax
from lamina.layers.core.dense import Dense
from lamina.layers.core.embedding import Embedding
from lamina.layers.core.identity import Identity
from lamina.layers.core.input_layer import Input, InputLayer
from lamina.layers.core.lambda_layer import Lambda
from lamina.layers.core.masking import Masking
from lamina.layers.core.wrapper import Wrapper
from lamina.layers.input_spec import InputSpec
from lamina.layers.layer import Layer
from lamina.layers.merging.base_merge import Merge
from lamina.layers.merging.concatenate import Concatenate, concatenate
from lamina.layers.merging.dot import Dot, dot
from lamina.layers.merging.elementwise import (
    Add,
    Average,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    maximum,
    minimum,
    multiply,
    subtract,
)
from lamina.layers.normalization.batch_normalization import BatchNormalization
from lamina.layers.normalization.group_normalization import GroupNormalization
from lamina.layers.normalization.layer_normalization import LayerNormalization
from lamina.layers.normalization.rms_normalization import RMSNormalization
from lamina.layers.normalization.unit_normalization import UnitNormalization
from lamina.layers.pooling.global_pooling import (
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalAveragePooling3D,
    GlobalMaxPooling1D,
    GlobalMaxPooling2D,
    GlobalMaxPooling3D,
)
from lamina.layers.preprocessing.normalization import Normalization
from lamina.layers.preprocessing.random_crop import RandomCrop
from lamina.layers.preprocessing.random_image import RandomContrast, RandomFlip
from lamina.layers.preprocessing.random_rotation import RandomRotation
from lamina.layers.preprocessing.random_translation import RandomTranslation
from lamina.layers.preprocessing.random_zoom import RandomZoom
from lamina.layers.preprocessing.rescaling import Rescaling
from lamina.layers.preprocessing.resizing import CenterCrop, Resizing
from lamina.layers.regularization.dropout import Dropout, SpatialDropout1D, SpatialDropout2D, SpatialDropout3D
from lamina.layers.regularization.gaussian import ActivityRegularization, AlphaDropout, GaussianDropout, GaussianNoise
from lamina.layers.reshaping.cropping import Cropping1D, Cropping2D
from lamina.layers.reshaping.cropping3d import Cropping3D
from lamina.layers.reshaping.flatten import Flatten
from lamina.layers.reshaping.permute import Permute
from lamina.layers.reshaping.repeat_vector import RepeatVector
from lamina.layers.reshaping.reshape import Reshape
from lamina.layers.reshaping.up_sampling import UpSampling1D, UpSampling2D
from lamina.layers.reshaping.up_sampling3d import UpSampling3D
from lamina.layers.reshaping.zero_padding import ZeroPadding1D, ZeroPadding2D
from lamina.layers.reshaping.zero_padding3d import ZeroPadding3D

GlobalAvgPool1D = GlobalAveragePooling1D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool1D = GlobalMaxPooling1D
GlobalMaxPool2D = GlobalMaxPooling2D
GlobalMaxPool3D = GlobalMaxPooling3D


def serialize(layer):
    from lamina.saving.serialization_lib import serialize_keras_object

    return serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """A layer (or model) from its serialized config."""
    from lamina.saving.serialization_lib import deserialize_keras_object

    return deserialize_keras_object(config, custom_objects=custom_objects)

# ---- convolution, pooling, recurrent and attention layers --------------------
from lamina.layers.attention.additive_attention import AdditiveAttention  # noqa: E402
from lamina.layers.attention.attention import Attention  # noqa: E402
from lamina.layers.attention.multi_head_attention import MultiHeadAttention  # noqa: E402
from lamina.layers.convolutional.conv1d import Conv1D  # noqa: E402
from lamina.layers.convolutional.conv1d_transpose import Conv1DTranspose  # noqa: E402
from lamina.layers.convolutional.conv2d import Conv2D  # noqa: E402
from lamina.layers.convolutional.conv2d_transpose import Conv2DTranspose  # noqa: E402
from lamina.layers.convolutional.conv3d import Conv3D, Conv3DTranspose  # noqa: E402
from lamina.layers.convolutional.depthwise_conv1d import DepthwiseConv1D  # noqa: E402
from lamina.layers.convolutional.depthwise_conv2d import DepthwiseConv2D  # noqa: E402
from lamina.layers.convolutional.separable_conv1d import SeparableConv1D  # noqa: E402
from lamina.layers.convolutional.separable_conv2d import SeparableConv2D  # noqa: E402
from lamina.layers.pooling.average_pooling1d import AveragePooling1D  # noqa: E402
from lamina.layers.pooling.average_pooling2d import AveragePooling2D  # noqa: E402
from lamina.layers.pooling.max_pooling1d import MaxPooling1D  # noqa: E402
from lamina.layers.pooling.max_pooling2d import MaxPooling2D  # noqa: E402
from lamina.layers.pooling.pooling3d import AveragePooling3D, MaxPooling3D  # noqa: E402
from lamina.layers.rnn.bidirectional import Bidirectional  # noqa: E402
from lamina.layers.rnn.gru import GRU, GRUCell  # noqa: E402
from lamina.layers.rnn.lstm import LSTM, LSTMCell  # noqa: E402
from lamina.layers.rnn.rnn import RNN  # noqa: E402
from lamina.layers.rnn.simple_rnn import SimpleRNN, SimpleRNNCell  # noqa: E402
from lamina.layers.rnn.stacked_rnn_cells import StackedRNNCells  # noqa: E402
from lamina.layers.rnn.time_distributed import TimeDistributed  # noqa: E402

Convolution1D = Conv1D
Convolution2D = Conv2D
Convolution3D = Conv3D
Convolution1DTranspose = Conv1DTranspose
Convolution2DTranspose = Conv2DTranspose
Convolution3DTranspose = Conv3DTranspose
SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
MaxPool1D = MaxPooling1D
MaxPool2D = MaxPooling2D
MaxPool3D = MaxPooling3D
AvgPool1D = AveragePooling1D
AvgPool2D = AveragePooling2D
AvgPool3D = AveragePooling3D
