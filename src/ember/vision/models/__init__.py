"""Image classification networks with torchvision's architectures and parameter names.

The constructors take torchvision's arguments (``num_classes`` and the architecture's own
options), build the same modules under the same names and initialize them the same way, so
a state dict saved from a torchvision model loads into the ember model with
``load_state_dict(strict=True)``.  ``weights`` must be ``None``: ember downloads nothing.
``get_model(name, **kwargs)`` builds one by name; ``list_models()`` lists the names.
"""
from ember.vision.models._api import get_model, get_model_builder, list_models
from ember.vision.models.alexnet import AlexNet, alexnet
from ember.vision.models.convnext import (
    ConvNeXt, convnext_base, convnext_large, convnext_small, convnext_tiny,
)
from ember.vision.models.densenet import (
    DenseNet, densenet121, densenet161, densenet169, densenet201,
)
from ember.vision.models.efficientnet import (
    EfficientNet, efficientnet_b0, efficientnet_b1, efficientnet_b2, efficientnet_b3,
    efficientnet_b4, efficientnet_b5, efficientnet_b6, efficientnet_b7, efficientnet_v2_l,
    efficientnet_v2_m, efficientnet_v2_s,
)
from ember.vision.models.mobilenetv2 import MobileNetV2, mobilenet_v2
from ember.vision.models.mobilenetv3 import MobileNetV3, mobilenet_v3_large, mobilenet_v3_small
from ember.vision.models.resnet import (
    BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152,
    resnext50_32x4d, resnext101_32x8d, resnext101_64x4d, wide_resnet50_2, wide_resnet101_2,
)
from ember.vision.models.shufflenetv2 import (
    ShuffleNetV2, shufflenet_v2_x0_5, shufflenet_v2_x1_0, shufflenet_v2_x1_5, shufflenet_v2_x2_0,
)
from ember.vision.models.squeezenet import SqueezeNet, squeezenet1_0, squeezenet1_1
from ember.vision.models.vgg import (
    VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn,
)
from ember.vision.models.vision_transformer import (
    VisionTransformer, vit_b_16, vit_b_32, vit_l_16, vit_l_32,
)

__all__ = [
    "ResNet", "BasicBlock", "Bottleneck", "resnet18", "resnet34", "resnet50", "resnet101",
    "resnet152", "resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d", "wide_resnet50_2",
    "wide_resnet101_2",
    "VGG", "vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn",
    "AlexNet", "alexnet",
    "MobileNetV2", "mobilenet_v2", "MobileNetV3", "mobilenet_v3_large", "mobilenet_v3_small",
    "SqueezeNet", "squeezenet1_0", "squeezenet1_1",
    "DenseNet", "densenet121", "densenet161", "densenet169", "densenet201",
    "ShuffleNetV2", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0", "shufflenet_v2_x1_5",
    "shufflenet_v2_x2_0",
    "EfficientNet", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7",
    "efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l",
    "ConvNeXt", "convnext_tiny", "convnext_small", "convnext_base", "convnext_large",
    "VisionTransformer", "vit_b_16", "vit_b_32", "vit_l_16", "vit_l_32",
    "get_model", "get_model_builder", "list_models",
]
