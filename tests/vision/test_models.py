"""ember.vision.models against torchvision.models: same state dict keys and shapes, same
outputs and gradients with torchvision's weights loaded, same initialization."""
import importlib.util
import math
import sys
import types
import warnings

import numpy as np
import pytest
import torch

import ember
from ember import nn
from ember.autograd import gradcheck
from ember.vision import models, ops

CONSTRUCTORS = models.list_models()
# whole networks whose outputs are compared (the others only by keys, shapes and counts)
COMPARED = ["resnet18", "resnet50", "resnext50_32x4d", "vgg11_bn", "alexnet",
            "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "squeezenet1_0",
            "squeezenet1_1", "densenet121", "shufflenet_v2_x0_5", "shufflenet_v2_x1_0",
            "efficientnet_b0", "efficientnet_b1", "efficientnet_v2_s", "convnext_tiny"]


@pytest.fixture(scope="module")
def tvm():
    """torchvision.models, imported without torchvision's compiled operators.

    The models need only torch, but ``import torchvision`` loads the compiled detection
    operators, which fail to load when the torchvision wheel was built for another torch
    variant (a CUDA wheel next to a CPU torch): the package is then entered without running
    its ``__init__``.
    """
    if "torchvision" not in sys.modules:
        spec = importlib.util.find_spec("torchvision")
        if spec is None:
            pytest.skip("torchvision is not installed")
        package = types.ModuleType("torchvision")
        package.__path__ = list(spec.submodule_search_locations)
        package.__spec__ = spec
        sys.modules["torchvision"] = package
    import torchvision.models
    return torchvision.models


def _to_ember(t, requires_grad=False):
    out = ember.from_numpy(t.detach().numpy().copy())
    return out.requires_grad_(True) if requires_grad else out


def _pair(tv_model, em_model):
    """Load the torchvision model's state dict into the ember model (strict)."""
    em_model.load_state_dict({k: _to_ember(v) for k, v in tv_model.state_dict().items()},
                             strict=True)
    return tv_model, em_model


def _build(tvm, name, **kwargs):
    torch.manual_seed(0)
    return _pair(getattr(tvm, name)(**kwargs), getattr(models, name)(**kwargs))


def _assert_close(em_out, tv_out, rtol=1e-4):
    """Equal up to float32 rounding relative to the output's scale (random-weight networks
    range from 1e-9 to 1e3)."""
    expected = tv_out.detach().numpy()
    got = em_out.detach().numpy()
    assert got.shape == expected.shape
    scale = max(np.abs(expected).max(), np.finfo(expected.dtype).tiny)
    assert np.abs(got - expected).max() <= rtol * scale


def _images(*shape, dtype=np.float32):
    return np.random.default_rng(0).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_state_dict_keys_shapes_and_counts(tvm, name):
    with torch.device("meta"):  # shapes only: skip torchvision's initialization
        tv_model = getattr(tvm, name)(num_classes=7)
    em_model = getattr(models, name)(num_classes=7)
    assert [(k, tuple(v.shape)) for k, v in em_model.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in tv_model.state_dict().items()]
    assert [k for k, _ in em_model.named_parameters()] == \
        [k for k, _ in tv_model.named_parameters()]
    assert sum(p.numel() for p in em_model.parameters()) == \
        sum(p.numel() for p in tv_model.parameters())
    assert type(em_model).__name__ == type(tv_model).__name__


@pytest.mark.parametrize("name", COMPARED)
def test_eval_output_matches(tvm, name):
    tv_model, em_model = _build(tvm, name, num_classes=10)
    tv_model.eval(), em_model.eval()
    x = _images(2, 3, 64, 64)
    with torch.no_grad(), ember.no_grad():
        _assert_close(em_model(ember.from_numpy(x)), tv_model(torch.from_numpy(x)))


def test_resnet18_train_mode_output_and_gradients(tvm):
    tv_model, em_model = _build(tvm, "resnet18", num_classes=5)
    x = _images(2, 3, 48, 48)
    tx = torch.from_numpy(x).requires_grad_(True)
    ex = ember.from_numpy(x).requires_grad_(True)
    tv_out, em_out = tv_model(tx), em_model(ex)
    _assert_close(em_out, tv_out)
    weights = _images(2, 5)
    (tv_out * torch.from_numpy(weights)).sum().backward()
    (em_out * ember.from_numpy(weights)).sum().backward()
    _assert_close(ex.grad, tx.grad)
    _assert_close(em_model.conv1.weight.grad, tv_model.conv1.weight.grad)
    _assert_close(em_model.layer4[1].bn2.weight.grad, tv_model.layer4[1].bn2.weight.grad)
    _assert_close(em_model.fc.bias.grad, tv_model.fc.bias.grad)
    # the running statistics moved as torchvision's did
    _assert_close(em_model.layer1[0].bn1.running_var, tv_model.layer1[0].bn1.running_var)
    assert int(em_model.bn1.num_batches_tracked) == 1


def test_resnet18_float64_and_non_contiguous_input(tvm):
    tv_model, em_model = _build(tvm, "resnet18", num_classes=3)
    tv_model.double().eval(), em_model.double().eval()
    # channels-last memory seen as NCHW: a non-contiguous batch
    x = _images(2, 40, 40, 3, dtype=np.float64)
    ex = ember.from_numpy(x).permute(0, 3, 1, 2)
    assert not ex.is_contiguous()
    out = em_model(ex)
    assert out.dtype == ember.float64
    _assert_close(out, tv_model(torch.from_numpy(x).permute(0, 3, 1, 2)), rtol=1e-10)


def test_resnet_empty_batch(tvm):
    tv_model, em_model = _build(tvm, "resnet18", num_classes=4)
    tv_model.eval(), em_model.eval()
    assert em_model(ember.zeros(0, 3, 32, 32)).shape == (0, 4)


@pytest.mark.parametrize("name, kwargs", [
    ("resnet50", {"replace_stride_with_dilation": [False, True, True]}),
    ("resnet18", {"zero_init_residual": True}),
    ("mobilenet_v2", {"width_mult": 0.5, "round_nearest": 4}),
    ("mobilenet_v3_small", {"reduced_tail": True, "dilated": True, "width_mult": 0.75}),
    ("efficientnet_b0", {"dropout": 0.5, "stochastic_depth_prob": 0.5}),
    ("convnext_tiny", {"layer_scale": 0.5}),  # the default 1e-6 hides the blocks
])
def test_architecture_options_match(tvm, name, kwargs):
    tv_model, em_model = _build(tvm, name, num_classes=6, **kwargs)
    tv_model.eval(), em_model.eval()
    x = _images(1, 3, 64, 64)
    _assert_close(em_model(ember.from_numpy(x)), tv_model(torch.from_numpy(x)))


def test_resnet_norm_layer_and_groups(tvm):
    def tv_norm(c):
        return torch.nn.GroupNorm(4, c)

    def em_norm(c):
        return nn.GroupNorm(4, c)
    torch.manual_seed(0)
    tv_model = tvm.ResNet(tvm.resnet.Bottleneck, [1, 1, 1, 1], num_classes=3, groups=4,
                          width_per_group=8, norm_layer=tv_norm)
    em_model = models.ResNet(models.Bottleneck, [1, 1, 1, 1], num_classes=3, groups=4,
                             width_per_group=8, norm_layer=em_norm)
    _pair(tv_model, em_model)
    x = _images(2, 3, 32, 32)
    _assert_close(em_model(ember.from_numpy(x)), tv_model(torch.from_numpy(x)))


def test_densenet_small_memory_efficient_gradients(tvm):
    kwargs = dict(growth_rate=4, block_config=(2, 2), num_init_features=8, bn_size=2,
                  num_classes=3)
    torch.manual_seed(0)
    tv_model = tvm.DenseNet(**kwargs)
    em_model = models.DenseNet(memory_efficient=True, **kwargs)
    _pair(tv_model, em_model)
    x = _images(2, 3, 32, 32)
    tx = torch.from_numpy(x).requires_grad_(True)
    ex = ember.from_numpy(x).requires_grad_(True)
    tv_out, em_out = tv_model(tx), em_model(ex)
    _assert_close(em_out, tv_out)
    tv_out.square().sum().backward()
    em_out.square().sum().backward()
    _assert_close(ex.grad, tx.grad)
    layer = "features.denseblock1.denselayer2.conv1.weight"
    _assert_close(em_model.get_parameter(layer).grad, tv_model.get_parameter(layer).grad)


@pytest.mark.parametrize("make, in_channels, train", [
    (lambda: models.BasicBlock(4, 4), 4, False),
    (lambda: models.BasicBlock(4, 4), 4, True),
    (lambda: models.BasicBlock(2, 4, stride=2, downsample=nn.Sequential(
        nn.Conv2d(2, 4, 1, stride=2, bias=False), nn.BatchNorm2d(4))), 2, False),
    (lambda: models.Bottleneck(8, 2, groups=2, base_width=32, dilation=2), 8, False),
    (lambda: models.mobilenetv2.InvertedResidual(4, 4, 1, expand_ratio=2), 4, False),
    (lambda: models.mobilenetv3.InvertedResidual(
        models.mobilenetv3.InvertedResidualConfig(8, 3, 16, 8, True, "HS", 1, 1, 1.0),
        nn.BatchNorm2d), 8, False),  # channels round to multiples of 8
    (lambda: models.squeezenet.Fire(4, 2, 3, 3), 4, False),
    (lambda: models.shufflenetv2.InvertedResidual(4, 4, 1), 4, False),
    (lambda: models.shufflenetv2.InvertedResidual(4, 6, 2), 4, True),
    (lambda: models.efficientnet.MBConv(models.efficientnet.MBConvConfig(2, 3, 1, 8, 8, 1),
                                        0.0, nn.BatchNorm2d), 8, True),
    (lambda: models.efficientnet.FusedMBConv(
        models.efficientnet.FusedMBConvConfig(4, 3, 1, 4, 4, 1), 0.0, nn.BatchNorm2d), 4, True),
    (lambda: models.convnext.CNBlock(4, 0.5, 0.0), 4, False),
    (lambda: models.convnext.LayerNorm2d(4), 4, False),
    (lambda: nn.Sequential(nn.Flatten(2), ops.Permute([0, 2, 1]),
                           models.vision_transformer.EncoderBlock(2, 4, 6, 0.0, 0.0)), 4, True),
], ids=["basic", "basic_train", "basic_downsample", "bottleneck_grouped_dilated",
        "mobilenet_v2_block", "mobilenet_v3_block", "fire", "shufflenet_unit",
        "shufflenet_unit_stride2_train", "mbconv_train", "fused_mbconv_train", "convnext_block",
        "layer_norm_2d", "vit_encoder_block_train"])
def test_blocks_gradcheck_float64(make, in_channels, train):
    ember.manual_seed(0)
    block = make().double().train(train)
    x = ember.randn(2, in_channels, 5, 5, dtype=ember.float64, requires_grad=True)
    assert gradcheck(block, (x,))


def test_init_statistics():
    ember.manual_seed(0)
    model = models.resnet50()
    for conv in (model.conv1, model.layer3[0].conv2, model.layer4[0].conv3):
        fan_out = conv.out_channels * math.prod(conv.kernel_size)
        assert float(conv.weight.std()) == pytest.approx(math.sqrt(2.0 / fan_out), rel=0.05)
    assert bool((model.layer2[0].bn3.weight == 1).all())
    assert bool((model.layer2[0].bn3.bias == 0).all())
    zero = models.resnet18(zero_init_residual=True)
    assert bool((zero.layer1[0].bn2.weight == 0).all())
    assert bool((zero.layer1[0].bn1.weight == 1).all())
    assert bool((models.resnet50(zero_init_residual=True).layer1[0].bn3.weight == 0).all())

    vgg = models.vgg11_bn(num_classes=10)
    assert float(vgg.classifier[0].weight.std()) == pytest.approx(0.01, rel=0.05)
    assert bool((vgg.classifier[0].bias == 0).all()) and bool((vgg.features[0].bias == 0).all())
    mobile = models.mobilenet_v2()
    conv = mobile.features[18][0]
    assert float(conv.weight.std()) == pytest.approx(math.sqrt(2.0 / conv.out_channels),
                                                     rel=0.05)
    assert float(mobile.classifier[1].weight.std()) == pytest.approx(0.01, rel=0.05)
    dense = models.densenet121()
    conv = dense.features.denseblock4.denselayer16.conv1  # DenseNet initializes by fan-in
    assert float(conv.weight.std()) == pytest.approx(math.sqrt(2.0 / conv.in_channels),
                                                     rel=0.05)
    squeeze = models.squeezenet1_1()
    assert float(squeeze.classifier[1].weight.std()) == pytest.approx(0.01, rel=0.05)
    efficient = models.efficientnet_b0()
    conv = efficient.features[8][0]
    assert float(conv.weight.std()) == pytest.approx(math.sqrt(2.0 / conv.out_channels),
                                                     rel=0.05)
    bound = float(efficient.classifier[1].weight.abs().max())
    assert 0.99 / math.sqrt(1000) < bound <= 1 / math.sqrt(1000)
    assert bool((efficient.classifier[1].bias == 0).all())
    convnext = models.convnext_tiny()
    weight = convnext.features[2][1].weight  # the first downsampling
    # truncated at ±2 (absolute, as torchvision's call): 100 standard deviations
    assert float(weight.std()) == pytest.approx(0.02, rel=0.05)
    assert bool((convnext.features[1][0].layer_scale == 1e-6).all())
    assert [b.stochastic_depth.p for b in convnext.features[7]] == \
        [0.1 * i / 17 for i in (15, 16, 17)]
    # block i of n drops its branch with probability 0.2 * i / n
    blocks = [m for m in efficient.modules() if isinstance(m, models.efficientnet.MBConv)]
    assert [b.stochastic_depth.p for b in blocks] == [0.2 * i / 16 for i in range(16)]


@pytest.mark.parametrize("name", CONSTRUCTORS)
def test_weights_other_than_none_raise(name):
    with pytest.raises(ValueError, match="downloads no pretrained weights"):
        getattr(models, name)(weights="DEFAULT")


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="BasicBlock only supports groups=1"):
        models.resnet18(groups=2)
    with pytest.raises(NotImplementedError, match="Dilation > 1"):
        models.resnet18(replace_stride_with_dilation=[False, False, True])
    with pytest.raises(ValueError, match="3-element"):
        models.resnet50(replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="'groups' expected value 32"):
        models.resnext50_32x4d(groups=16)
    with pytest.raises(ValueError, match="Unsupported SqueezeNet version"):
        models.SqueezeNet("2_0")
    with pytest.raises(ValueError, match="inverted_residual_setting"):
        models.MobileNetV2(inverted_residual_setting=[[1, 16, 1]])
    with pytest.raises(ValueError, match="should not be empty"):
        models.MobileNetV3([], 1024)
    with pytest.raises(TypeError, match="List\\[InvertedResidualConfig\\]"):
        models.MobileNetV3([[16, 3, 16, 16, True, "RE", 2, 1]], 1024)
    with pytest.raises(ValueError, match="list of 3 positive ints"):
        models.ShuffleNetV2([4, 8], [24, 48, 96, 192, 1024])
    with pytest.raises(ValueError, match="list of 5 positive ints"):
        models.ShuffleNetV2([4, 8, 4], [24, 48, 96, 192])
    with pytest.raises(ValueError, match="Invalid combination of stride 1"):
        models.shufflenetv2.InvertedResidual(4, 6, 1)
    with pytest.raises(ValueError, match="illegal stride"):
        models.shufflenetv2.InvertedResidual(4, 4, 4)
    with pytest.raises(ValueError, match="should not be empty"):
        models.EfficientNet([], 0.2)
    with pytest.raises(TypeError, match="List\\[MBConvConfig\\]"):
        models.EfficientNet([[1, 3, 1, 32, 16, 1]], 0.2)
    with pytest.raises(TypeError, match="norm_layer"):
        models.efficientnet_b5(norm_layer=nn.BatchNorm2d)
    with pytest.raises(ValueError, match="block_setting should not be empty"):
        models.ConvNeXt([])
    with pytest.raises(TypeError, match="List\\[CNBlockConfig\\]"):
        models.ConvNeXt([(96, 192, 3)])
    with pytest.raises(TypeError, match="by keyword"):
        models.resnet18(None, True, 10)
    with pytest.raises(TypeError, match="by keyword"):
        models.resnet18(None, weights=None)


def _warnings(call):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [(w.category, str(w.message)) for w in caught]


@pytest.mark.parametrize("args, kwargs", [
    ((), {"pretrained": False}),
    ((False,), {}),
    ((None,), {}),
    ((None, False), {}),
], ids=["pretrained_false", "positional_false", "positional_none", "positional_progress"])
def test_legacy_calls_warn_as_torchvision(tvm, args, kwargs):
    """torchvision's deprecated forms: ``pretrained`` and ``weights``/``progress`` by position."""
    expected = _warnings(lambda: tvm.squeezenet1_1(*args, **kwargs))
    assert expected
    assert _warnings(lambda: models.squeezenet1_1(*args, **kwargs)) == expected


def test_shufflenet_efficientnet_convnext_float64_gradients_match(tvm):
    """Train mode in float64: batch statistics, the shuffle, the squeeze-excitation gate and
    the layer scale differentiate as torchvision's (stochastic depth off: it draws its own
    noise)."""
    def small_convnext(lib):
        config = lib.convnext.CNBlockConfig
        return lib.ConvNeXt([config(8, 16, 1), config(16, None, 2)], num_classes=4,
                            layer_scale=0.5)
    pairs = [_build(tvm, "shufflenet_v2_x0_5", num_classes=4),
             _build(tvm, "efficientnet_b0", num_classes=4, stochastic_depth_prob=0.0,
                    dropout=0.0)]
    torch.manual_seed(0)
    pairs.append(_pair(small_convnext(tvm), small_convnext(models)))
    for tv_model, em_model in pairs:
        tv_model.double(), em_model.double()
        x = _images(2, 3, 40, 40, dtype=np.float64)
        tx = torch.from_numpy(x).requires_grad_(True)
        ex = ember.from_numpy(x).requires_grad_(True)
        tv_out, em_out = tv_model(tx), em_model(ex)
        _assert_close(em_out, tv_out, rtol=1e-9)
        tv_out.square().sum().backward()
        em_out.square().sum().backward()
        _assert_close(ex.grad, tx.grad, rtol=1e-9)
        # some gradients vanish up to rounding (a bias before a batch norm): one scale for all
        got = np.concatenate([p.grad.numpy().ravel() for p in em_model.parameters()])
        expected = np.concatenate([p.grad.numpy().ravel() for p in tv_model.parameters()])
        assert np.abs(got - expected).max() <= 1e-9 * np.abs(expected).max()


def _randomize_head(tv_model):
    """ViT's head starts at zero, which would hide the network: draw it."""
    with torch.no_grad():
        tv_model.heads.head.weight.normal_()
        tv_model.heads.head.bias.normal_()
    return tv_model


@pytest.mark.parametrize("name, image_size", [("vit_b_16", 32), ("vit_b_32", 64)])
def test_vit_eval_output_matches(tvm, name, image_size):
    torch.manual_seed(0)
    tv_model = _randomize_head(getattr(tvm, name)(num_classes=10, image_size=image_size))
    em_model = getattr(models, name)(num_classes=10, image_size=image_size)
    _pair(tv_model, em_model)
    tv_model.eval(), em_model.eval()
    x = _images(2, 3, image_size, image_size)
    with torch.no_grad(), ember.no_grad():
        _assert_close(em_model(ember.from_numpy(x)), tv_model(torch.from_numpy(x)))


@pytest.mark.parametrize("kwargs", [
    {"representation_size": 6},
    {"conv_stem_configs": "stem"},
], ids=["representation", "conv_stem"])
def test_small_vit_float64_gradients_match(tvm, kwargs):
    """A small ViT in train mode (dropout 0) and float64, against torchvision's."""
    def build(lib, config_cls):
        options = dict(kwargs)
        if options.get("conv_stem_configs") == "stem":
            options["conv_stem_configs"] = [config_cls(4, 3, 2), config_cls(8, 3, 2)]
        return lib.VisionTransformer(image_size=16, patch_size=4, num_layers=2, num_heads=2,
                                     hidden_dim=8, mlp_dim=16, num_classes=3, **options)
    torch.manual_seed(0)
    tv_model = _randomize_head(build(tvm, tvm.vision_transformer.ConvStemConfig))
    em_model = build(models, models.vision_transformer.ConvStemConfig)
    _pair(tv_model, em_model)
    assert list(em_model.state_dict()) == list(tv_model.state_dict())
    tv_model.double(), em_model.double()
    x = _images(3, 3, 16, 16, dtype=np.float64)
    tx = torch.from_numpy(x).requires_grad_(True)
    ex = ember.from_numpy(x).requires_grad_(True)
    tv_out, em_out = tv_model(tx), em_model(ex)
    _assert_close(em_out, tv_out, rtol=1e-9)
    tv_out.square().sum().backward()
    em_out.square().sum().backward()
    _assert_close(ex.grad, tx.grad, rtol=1e-9)
    for (key, p), tp in zip(em_model.named_parameters(), tv_model.parameters()):
        _assert_close(p.grad, tp.grad, rtol=1e-8)


def test_vit_init_and_errors():
    ember.manual_seed(0)
    model = models.vit_b_32(image_size=64)
    assert float(model.encoder.pos_embedding.std()) == pytest.approx(0.02, rel=0.05)
    assert float(model.conv_proj.weight.std()) == pytest.approx(math.sqrt(1 / (3 * 32 * 32)),
                                                                rel=0.05)
    assert float(model.heads.head.weight.abs().sum()) == 0.0
    assert bool((model.class_token == 0).all()) and model.seq_length == 5
    linear = model.encoder.layers.encoder_layer_0.mlp[0]
    bound = math.sqrt(6 / (linear.in_features + linear.out_features))  # Xavier uniform
    assert 0.99 * bound < float(linear.weight.abs().max()) <= bound
    assert float(linear.bias.abs().max()) < 1e-5
    with pytest.raises(AssertionError, match="Wrong image height! Expected 64 but got 32"):
        model(ember.zeros(1, 3, 32, 64))
    with pytest.raises(AssertionError, match="Wrong image width! Expected 64 but got 96"):
        model(ember.zeros(1, 3, 64, 96))
    with pytest.raises(AssertionError, match="indivisible by patch size"):
        models.vit_b_16(image_size=40)
    with pytest.raises(AssertionError, match="Expected \\(batch_size, seq_length"):
        model.encoder(ember.zeros(5, 768))
    assert model.eval()(ember.zeros(0, 3, 64, 64)).shape == (0, 1000)


def test_channel_shuffle_matches_torchvision(tvm):
    from torchvision.models.shufflenetv2 import channel_shuffle as tv_shuffle
    x = _images(2, 6, 3, 4)
    got = models.shufflenetv2.channel_shuffle(ember.from_numpy(x)[:, :, :, ::2], 3)
    _assert_close(got, tv_shuffle(torch.from_numpy(x)[:, :, :, ::2], 3), rtol=0)


def test_registry_matches_torchvision(tvm):
    names = models.list_models()
    assert names == sorted(n for n in models.__all__ if n[0].islower() and
                           n not in ("get_model", "get_model_builder", "list_models"))
    assert set(names) <= set(tvm.list_models(module=tvm))
    assert models.list_models(module=models) == names
    assert models.list_models(module=ember.nn) == []
    for include, exclude in [("vit_*", None), (["resnet*", "vgg1?"], "*_bn"),
                             (None, ["*net*", "vgg*", "vit*", "convnext*"]), ("nothing*", None)]:
        expected = [n for n in tvm.list_models(module=tvm, include=include, exclude=exclude)
                    if n in names]
        assert models.list_models(include=include, exclude=exclude) == expected
    assert models.get_model_builder("ResNet18") is models.resnet18
    model = models.get_model("ShuffleNet_V2_X0_5", num_classes=3)
    assert isinstance(model, models.ShuffleNetV2) and model.fc.out_features == 3
    with pytest.raises(ValueError, match="Unknown model resnet7"):
        models.get_model("resnet7")
    with pytest.raises(ValueError, match="downloads no pretrained weights"):
        models.get_model("alexnet", weights="DEFAULT")


def test_legacy_pretrained_true_raises():
    with pytest.raises(ValueError, match="pretrained=True: ember downloads no"), \
            pytest.warns(UserWarning, match="'pretrained' is deprecated"):
        models.resnet18(pretrained=True)
    with pytest.raises(ValueError, match="pretrained=True: ember downloads no"), \
            pytest.warns(UserWarning, match="as positional parameter"):
        models.alexnet(True)
