"""Neural-network building blocks (PyTorch's ``torch.nn``)."""
from ember.nn import functional  # noqa: F401
# core: parameters, modules, containers, init, utils
from ember.nn.parameter import Parameter, Buffer, UninitializedParameter, UninitializedBuffer
from ember.nn.modules import (
    Module, Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict,
    Identity, Linear, Bilinear, Flatten, Unflatten,
)
from ember.nn import init, utils, attention  # noqa: F401

# layers: activations, losses, dropout, embedding, normalisation, convolution, pooling
from ember.nn.modules import (  # noqa: E402
    ReLU, ReLU6, LeakyReLU, PReLU, ELU, SELU, CELU, GELU, SiLU, Mish, Sigmoid, Tanh, Softplus,
    Softsign, Hardtanh, Hardsigmoid, Hardswish, Softmax, LogSoftmax, Softmin, GLU, Threshold,
    LogSigmoid, Tanhshrink, Softshrink, Hardshrink,
    MSELoss, L1Loss, SmoothL1Loss, HuberLoss, CrossEntropyLoss, NLLLoss, BCELoss,
    BCEWithLogitsLoss, KLDivLoss, PoissonNLLLoss, GaussianNLLLoss, CosineEmbeddingLoss,
    MarginRankingLoss, TripletMarginLoss, MultiLabelSoftMarginLoss,
    Dropout, Dropout1d, Dropout2d, Dropout3d, AlphaDropout,
    Embedding,
    LayerNorm, GroupNorm, RMSNorm, BatchNorm1d, BatchNorm2d, InstanceNorm2d,
    Conv1d, Conv2d,
    MaxPool1d, MaxPool2d, AvgPool1d, AvgPool2d, AdaptiveAvgPool1d, AdaptiveAvgPool2d,
)
from ember.nn.modules import EmbeddingBag  # noqa: E402
from ember.nn.modules import (  # noqa: E402  (pooling and resampling)
    MaxPool3d, AvgPool3d, AdaptiveAvgPool3d, AdaptiveMaxPool1d, AdaptiveMaxPool2d,
    AdaptiveMaxPool3d, MaxUnpool1d, MaxUnpool2d, MaxUnpool3d, LPPool1d, LPPool2d, LPPool3d,
    FractionalMaxPool2d, FractionalMaxPool3d,
    Upsample, UpsamplingNearest2d, UpsamplingBilinear2d, PixelShuffle, PixelUnshuffle,
    ChannelShuffle,
)
from ember.nn.modules import CTCLoss  # noqa: E402
from ember.nn.modules import (  # noqa: E402
    HingeEmbeddingLoss, MultiMarginLoss, MultiLabelMarginLoss, SoftMarginLoss,
    TripletMarginWithDistanceLoss, NLLLoss2d,
    ConstantPad1d, ConstantPad2d, ConstantPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d,
    ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
    ReplicationPad3d, CircularPad1d, CircularPad2d, CircularPad3d,
    CosineSimilarity, PairwiseDistance,
    BatchNorm3d, InstanceNorm1d, InstanceNorm3d, LocalResponseNorm, SyncBatchNorm,
    CrossMapLRN2d,
    FeatureAlphaDropout, RReLU, Softmax2d,
)
from ember.nn.modules import (  # noqa: E402
    Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d, Fold, Unfold,
)
from ember.nn.modules import (  # noqa: E402
    MultiheadAttention, Transformer, TransformerEncoder, TransformerDecoder,
    TransformerEncoderLayer, TransformerDecoderLayer,
)
from ember.nn.modules import RNNBase, RNN, LSTM, GRU, RNNCellBase, RNNCell, LSTMCell, GRUCell  # noqa: E402
from ember.nn.modules import (  # noqa: E402  (lazy modules)
    LazyLinear, LazyConv1d, LazyConv2d, LazyConv3d, LazyConvTranspose1d, LazyConvTranspose2d,
    LazyConvTranspose3d, LazyBatchNorm1d, LazyBatchNorm2d, LazyBatchNorm3d, LazyInstanceNorm1d,
    LazyInstanceNorm2d, LazyInstanceNorm3d,
)
from ember.nn.modules import AdaptiveLogSoftmaxWithLoss  # noqa: E402

# issue 7: distributed data parallel
from ember.nn import parallel  # noqa: E402,F401
from ember.nn.parallel import DataParallel  # noqa: E402
# functional.linear_cross_entropy as a module, and its chunking options
from ember.nn.modules import LinearCrossEntropyLoss  # noqa: E402
from ember.nn._functional.linear_cross_entropy import LinearCrossEntropyOptions  # noqa: E402
