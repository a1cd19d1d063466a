"""Neural-network building blocks: Modules, layers, initialisation and functions.

    import anygrad.nn as nn
    import anygrad.nn.functional as F

    model = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 3))
    loss = F.cross_entropy(model(x), y)
"""
from . import functional, init, utils
from .containers import ModuleDict, ModuleList
from .conv_modules import (
    AdaptiveAvgPool2d, AvgPool1d, AvgPool2d, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, MaxPool1d,
    MaxPool2d,
)
from .layers import (
    GELU, Dropout, Flatten, Identity, LeakyReLU, Linear, LogSoftmax, ReLU, Sigmoid, SiLU,
    Softmax, Softplus, Tanh,
)
from .loss_modules import (
    BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, L1Loss, MSELoss, NLLLoss,
    SmoothL1Loss,
)
from .module import Module, Parameter, Sequential
from .normalization import Embedding, LayerNorm
from .attention import MultiheadAttention
from .conv_modules import ConvTranspose1d, ConvTranspose2d
from .normalization import GroupNorm, RMSNorm
from .transformer import (
    Transformer, TransformerDecoder, TransformerDecoderLayer, TransformerEncoder, TransformerEncoderLayer,
)
from .upsampling import Upsample
from .recurrent import GRU, LSTM, RNN, GRUCell, LSTMCell, RNNCell

__all__ = [
    "AdaptiveAvgPool2d", "AvgPool1d", "AvgPool2d", "BatchNorm1d", "BatchNorm2d", "Conv1d",
    "Conv2d", "Dropout", "Flatten", "GELU", "Identity", "LeakyReLU", "Linear", "LogSoftmax",
    "MaxPool1d", "MaxPool2d", "Module", "Parameter", "ReLU", "Sequential", "Sigmoid", "Softmax",
    "Tanh", "functional", "init",
    "BCELoss", "BCEWithLogitsLoss", "CrossEntropyLoss", "Embedding", "HuberLoss", "L1Loss",
    "LayerNorm", "MSELoss", "ModuleDict", "ModuleList", "NLLLoss", "SiLU", "SmoothL1Loss",
    "Softplus", "utils",
    "ConvTranspose1d", "ConvTranspose2d", "GroupNorm", "MultiheadAttention", "RMSNorm",
    "Transformer", "TransformerDecoder", "TransformerDecoderLayer", "TransformerEncoder",
    "TransformerEncoderLayer", "Upsample",
    "GRU", "GRUCell", "LSTM", "LSTMCell", "RNN", "RNNCell",
]
