"""The layers of ``ember.nn``."""
# core: module, containers, linear, flatten
from ember.nn.modules.module import Module
from ember.nn.modules.container import (
    Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
)
from ember.nn.modules.linear import Identity, Linear, Bilinear
from ember.nn.modules.flatten import Flatten, Unflatten

# layers: activations, losses, dropout, embedding, normalisation, convolution, pooling
from ember.nn.modules.activation import (
    ReLU, ReLU6, LeakyReLU, PReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid, Tanh, Softplus,
    Softsign, Hardtanh, Hardsigmoid, Hardswish, Softmax, LogSoftmax, Softmin, GLU, Threshold,
    LogSigmoid, Tanhshrink, Softshrink, Hardshrink,
)
from ember.nn.modules.loss import (
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss,
    BCEWithLogitsLoss, KLDivLoss, PoissonNLLLoss, GaussianNLLLoss, CosineEmbeddingLoss,
    MarginRankingLoss, TripletMarginLoss, MultiLabelSoftMarginLoss,
)
from ember.nn.modules.dropout import Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout
from ember.nn.modules.sparse import Embedding
from ember.nn.modules.normalization import (
    LayerNorm, GroupNorm, RMSNorm, BatchNorm1d, BatchNorm2d, InstanceNorm2d,
)
from ember.nn.modules.conv import Conv1d, Conv2d
from ember.nn.modules.pooling import (
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,
)
from ember.nn.modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
