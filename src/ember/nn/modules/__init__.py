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
from ember.nn.modules.embedding_bag import EmbeddingBag
from ember.nn.modules.pooling import (
    MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
    AdaptiveMaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool1d, LPPool2d, LPPool3d,
    FractionalMaxPool2d, FractionalMaxPool3d,
)
from ember.nn.modules.resample import (
    Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle,
    ChannelShuffle,
)
from ember.nn.modules.loss import CTCLoss  # noqa: E402
from ember.nn.modules.loss import LinearCrossEntropyLoss  # noqa: E402
from ember.nn.modules.loss import (  # noqa: E402
    HingeEmbeddingLoss, MultiMarginLoss, MultiLabelMarginLoss, SoftMarginLoss,
    TripletMarginWithDistanceLoss, NLLLoss2d,
)
from ember.nn.modules.padding import (  # noqa: E402
    ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d,
)
from ember.nn.modules.distance import CosineSimilarity, PairwiseDistance  # noqa: E402
from ember.nn.modules.normalization import (  # noqa: E402
    BatchNorm3d, InstanceNorm1d, InstanceNorm3d, LocalResponseNorm, CrossMapLRN2d,
)
from ember.nn.modules.sync_batchnorm import SyncBatchNorm  # noqa: E402
from ember.nn.modules.dropout import FeatureAlphaDropout  # noqa: E402
from ember.nn.modules.activation import RReLU, Softmax2d  # noqa: E402
from ember.nn.modules.conv import Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from ember.nn.modules.fold import Fold, Unfold
from ember.nn.modules.activation_attention import MultiheadAttention
from ember.nn.modules.transformer import (
    Transformer, TransformerEncoder, TransformerDecoder, TransformerEncoderLayer,
    TransformerDecoderLayer,
)
from ember.nn.modules.rnn import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell
from ember.nn.modules.linear import LazyLinear
from ember.nn.modules.conv import (
    LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
    LazyConvTranspose3d,
)
from ember.nn.modules.normalization import (
    LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyInstanceNorm1d, LazyInstanceNorm2d,
    LazyInstanceNorm3d,
)
from ember.nn.modules.adaptive import AdaptiveLogSoftmaxWithLoss
from ember.nn.modules.linear_cross_entropy_options import LinearCrossEntropyOptions  # noqa: E402
# PyTorch's module paths, reached as attributes (nn.modules.utils._pair,
# nn.modules.batchnorm._BatchNorm) and imported from (nn.modules.pixelshuffle.PixelShuffle)
from ember.nn.modules import (  # noqa: E402,F401
    utils, batchnorm, instancenorm, pixelshuffle, upsampling, channelshuffle,
    linear_cross_entropy_options,
)
