"""ember.utils.tensorboard.SummaryWriter: events read back with TensorBoard's own
readers, and the same calls made with torch.utils.tensorboard decode to equal values."""
import importlib
import io
import os
import socket
import sys

import numpy as np
import pytest

pytest.importorskip("tensorboard")
import torch  # noqa: E402
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator  # noqa: E402
from tensorboard.backend.event_processing.event_file_loader import EventFileLoader  # noqa: E402
from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData  # noqa: E402
from torch.utils.tensorboard import SummaryWriter as TorchWriter  # noqa: E402

import ember  # noqa: E402
from ember.utils.tensorboard import FileWriter, SummaryWriter  # noqa: E402

RNG = np.random.default_rng(0)


def _accumulator(logdir):
    acc = EventAccumulator(str(logdir), size_guidance={k: 0 for k in (
        "scalars", "histograms", "images", "audio", "tensors", "compressedHistograms")})
    acc.Reload()
    return acc


def _events(logdir):
    """Every event of the event files directly in ``logdir``, in order."""
    files = sorted(f for f in os.listdir(logdir) if f.startswith("events.out.tfevents"))
    return [e for f in files for e in EventFileLoader(os.path.join(logdir, f)).Load()]


def _summaries(logdir):
    """(step, Summary.Value) of the summary events, wall times left out."""
    return [(e.step, v) for e in _events(logdir) if e.HasField("summary")
            for v in e.summary.value]


def _both(tmp_path, calls):
    """Run ``calls(writer, as_tensor)`` with ember's writer and torch's, each in its own
    directory; returns the two directories."""
    ours, theirs = tmp_path / "ember", tmp_path / "torch"
    with SummaryWriter(ours) as writer:
        calls(writer, lambda a: ember.tensor(np.asarray(a)))
    with TorchWriter(theirs) as writer:
        calls(writer, lambda a: torch.tensor(np.asarray(a)))
    return ours, theirs


def _assert_same_summaries(tmp_path, calls):
    ours, theirs = _both(tmp_path, calls)
    mine, reference = _summaries(ours), _summaries(theirs)
    assert len(mine) == len(reference) > 0
    for (step_a, a), (step_b, b) in zip(mine, reference):
        assert step_a == step_b
        assert a == b, f"{a}\n!=\n{b}"
    return ours


# ---------------------------------------------------------------- scalars

def test_scalars_read_back(tmp_path, device):
    with SummaryWriter(tmp_path) as writer:
        writer.add_scalar("loss", ember.tensor(0.5, device=device), 0)
        writer.add_scalar("loss", ember.tensor([0.25], device=device, requires_grad=True), 1)
        writer.add_scalar("loss", 0.125, global_step=np.int64(2))
        writer.add_scalar("acc", 3, 7, walltime=123.0)
    acc = _accumulator(tmp_path)
    assert sorted(acc.Tags()["scalars"]) == ["acc", "loss"]
    assert [(e.step, e.value) for e in acc.Scalars("loss")] == [(0, 0.5), (1, 0.25),
                                                                (2, 0.125)]
    (event,) = acc.Scalars("acc")
    assert (event.step, event.value, event.wall_time) == (7, 3.0, 123.0)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_scalars_match_torch(tmp_path, dtype):
    values = RNG.standard_normal(4).astype(dtype)

    def calls(writer, as_tensor):
        writer.add_scalar("x", as_tensor(values[0]), 0)           # 0-d
        writer.add_scalar("x", as_tensor(values[1:2].reshape(1, 1)), 1)
        writer.add_scalar("x", values[2], 2)                      # NumPy scalar
        writer.add_scalar("x", float(values[3]), 3)
        writer.add_scalar("nan", float("nan"), 0)
        writer.add_scalar("inf", as_tensor(np.array(-np.inf, dtype)), 0)
        writer.add_scalar("new", as_tensor(values[0]), 0, new_style=True)
        writer.add_scalar("double", float(values[0]), 0, new_style=True,
                          double_precision=True)

    ours = _assert_same_summaries(tmp_path, calls)
    acc = _accumulator(ours)
    assert np.isnan(acc.Scalars("nan")[0].value)
    assert acc.Scalars("inf")[0].value == -np.inf
    assert acc.Tensors("double")[0].tensor_proto.double_val == [float(values[0])]


def test_scalar_with_several_elements_raises(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(AssertionError, match="one element"):
            writer.add_scalar("x", ember.ones(2), 0)
        with pytest.raises(NotImplementedError, match="ember Tensor"):
            writer.add_scalar("x", [1.0], 0)
    with TorchWriter(tmp_path / "torch") as writer:
        with pytest.raises(AssertionError):
            writer.add_scalar("x", torch.ones(2), 0)
        with pytest.raises(NotImplementedError):
            writer.add_scalar("x", [1.0], 0)


def test_add_scalars_writes_one_run_per_series(tmp_path):
    def calls(writer, as_tensor):
        for step in range(3):
            writer.add_scalars("run/main", {"a": step, "b": as_tensor(step * 0.5)}, step)

    ours, theirs = _both(tmp_path, calls)
    for sub in ("run_main_a", "run_main_b"):
        assert (ours / sub).is_dir()
        assert [v for _, v in _summaries(ours / sub)] == [v for _, v in _summaries(theirs / sub)]
    scalars = _accumulator(ours / "run_main_b").Scalars("run/main")
    assert [(e.step, e.value) for e in scalars] == [(0, 0.0), (1, 0.5), (2, 1.0)]


# ---------------------------------------------------------------- histograms

@pytest.mark.parametrize("bins", ["tensorflow", 7, "auto", "fd", "sqrt", [-3.0, 0.0, 1.0, 4.0]])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_histograms_match_torch(tmp_path, bins, dtype):
    values = RNG.standard_normal((20, 30)).astype(dtype)

    def calls(writer, as_tensor):
        writer.add_histogram("h", as_tensor(values), 0, bins=bins)
        writer.add_histogram("t", as_tensor(values).t(), 1, bins=bins)   # not contiguous
        writer.add_histogram("capped", values, 2, bins=bins, max_bins=3)

    ours = _assert_same_summaries(tmp_path, calls)
    (event,) = _accumulator(ours).Histograms("h")
    hist = event.histogram_value
    assert (hist.num, hist.min, hist.max) == (600, values.min(), values.max())
    assert hist.sum == pytest.approx(values.astype(float).sum())


def test_histogram_of_tensor_requiring_grad_and_bad_inputs(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_histogram("w", ember.randn(10, requires_grad=True), 0)
        writer.add_histogram("bf16", ember.arange(4.0).to(ember.bfloat16), 0)
        writer.add_scalar("bf16", ember.tensor(1.5, dtype=ember.bfloat16), 0)
        with pytest.raises(ValueError, match="no element"):
            writer.add_histogram("empty", ember.zeros(0), 0)
        with pytest.raises(ValueError):        # NumPy: a count needs a finite range
            writer.add_histogram("nan", np.array([np.nan, 1.0]), 0, bins=3)
    acc = _accumulator(tmp_path)
    assert acc.Histograms("w")[0].histogram_value.num == 10
    assert acc.Histograms("bf16")[0].histogram_value.sum == 6.0
    assert acc.Scalars("bf16")[0].value == 1.5


def test_histogram_raw(tmp_path):
    def calls(writer, as_tensor):
        writer.add_histogram_raw("raw", 0.0, 3.0, 6, 9.0, 17.0, [1.0, 2.0, 3.0],
                                 [1, 2, 3], 4)

    _assert_same_summaries(tmp_path, calls)
    with SummaryWriter(tmp_path / "bad") as writer:
        with pytest.raises(ValueError, match="bucket_limits"):
            writer.add_histogram_raw("raw", 0, 1, 1, 1, 1, [1.0], [1, 2])


# ---------------------------------------------------------------- images

def _decoded(logdir, tag):
    from PIL import Image
    images = _accumulator(logdir).Images(tag)
    return [np.asarray(Image.open(io.BytesIO(e.encoded_image_string))) for e in images]


IMAGE_CASES = [
    ("CHW", (3, 5, 7)), ("HWC", (5, 7, 3)), ("HWC", (5, 7, 1)), ("HW", (5, 7)),
    ("WH", (7, 5)), ("CHW", (1, 5, 7)), ("HWC", (5, 7, 4)), ("CHW", (2, 5, 7)),
]


@pytest.mark.parametrize("dataformats, shape", IMAGE_CASES)
@pytest.mark.parametrize("dtype", ["float32", "float64", "uint8"])
def test_images_match_torch(tmp_path, dataformats, shape, dtype):
    if dtype == "uint8":
        array = RNG.integers(0, 256, shape).astype(np.uint8)
    else:   # some values outside [0, 1]: clipped
        array = (RNG.random(shape) * 1.2 - 0.1).astype(dtype)

    def calls(writer, as_tensor):
        writer.add_image("img", as_tensor(array), 0, dataformats=dataformats)

    ours, theirs = _both(tmp_path, calls)
    (mine,), (reference,) = _decoded(ours, "img"), _decoded(theirs, "img")
    np.testing.assert_array_equal(mine, reference)
    hwc = array.transpose([dataformats.find(c) for c in "HWC" if c in dataformats])
    expected = hwc if dtype == "uint8" else (hwc.astype(np.float32) * 255).clip(0, 255)
    expected = expected.astype(np.uint8)
    if expected.ndim == 2:
        expected = expected[:, :, None]
    if expected.shape[2] == 1:
        expected = np.repeat(expected, 3, axis=2)
    np.testing.assert_array_equal(mine, expected)


@pytest.mark.parametrize("dataformats, shape", [("NCHW", (5, 3, 4, 6)), ("NHWC", (10, 4, 6, 1)),
                                                ("NCHW", (1, 1, 4, 6))])
def test_add_images_tiles_the_batch_like_torch(tmp_path, dataformats, shape):
    array = RNG.random(shape).astype(np.float32)

    def calls(writer, as_tensor):
        writer.add_images("batch", as_tensor(array), 0, dataformats=dataformats)
        swapped = as_tensor(np.ascontiguousarray(array.swapaxes(2, 3)))
        writer.add_images("strided", swapped.transpose(2, 3), 1, dataformats=dataformats)

    ours, theirs = _both(tmp_path, calls)
    for tag in ("batch", "strided"):
        np.testing.assert_array_equal(_decoded(ours, tag)[0], _decoded(theirs, tag)[0])
    n = shape[0]
    h, w = (shape[2], shape[3]) if dataformats == "NCHW" else (shape[1], shape[2])
    rows, cols = -(-n // min(n, 8)), min(n, 8)
    assert _decoded(ours, "batch")[0].shape == (rows * h, cols * w, 3)


def test_image_of_a_non_contiguous_tensor_requiring_grad(tmp_path):
    base = ember.rand(6, 5, 3, requires_grad=True)
    with SummaryWriter(tmp_path) as writer:
        writer.add_image("img", base.permute(2, 0, 1), 0)          # CHW view of HWC data
    (decoded,) = _decoded(tmp_path, "img")
    expected = (base.detach().numpy() * 255).clip(0, 255).astype(np.uint8)
    np.testing.assert_array_equal(decoded, expected)


def test_wrong_image_shapes_raise(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(AssertionError, match="3 dimensions .* names 4"):
            writer.add_images("x", ember.rand(3, 4, 5), 0)
        with pytest.raises(AssertionError, match="twice"):
            writer.add_image("x", ember.rand(3, 4, 5), 0, dataformats="CHH")
        with pytest.raises(AssertionError, match="1 or 3 channels"):
            writer.add_images("x", ember.rand(2, 2, 4, 5), 0)
        with pytest.raises(TypeError, match="channels, got 5"):
            writer.add_image("x", ember.rand(5, 4, 5), 0)
        with pytest.raises(AssertionError, match="permutation"):
            writer.add_image("x", ember.rand(3, 4, 5), 0, dataformats="CHX")
    with TorchWriter(tmp_path / "torch") as writer:
        with pytest.raises(AssertionError):
            writer.add_images("x", torch.rand(3, 4, 5), 0)
        with pytest.raises(AssertionError):
            writer.add_images("x", torch.rand(2, 2, 4, 5), 0)
        with pytest.raises(TypeError):
            writer.add_image("x", torch.rand(5, 4, 5), 0)


def test_add_figure(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def figure():
        fig, ax = plt.subplots(figsize=(2, 1.5), dpi=50)
        ax.plot([0, 1, 2], [1, 0, 1])
        return fig

    def calls(writer, as_tensor):
        writer.add_figure("one", figure(), 0)
        writer.add_figure("two", [figure(), figure()], 1)

    ours, theirs = _both(tmp_path, calls)
    for tag, shape in (("one", (75, 100, 3)), ("two", (75, 200, 3))):
        (mine,), (reference,) = _decoded(ours, tag), _decoded(theirs, tag)
        assert mine.shape == shape
        np.testing.assert_array_equal(mine, reference)
    assert plt.get_fignums() == []


# ---------------------------------------------------------------- text, audio, tensors

def test_text_matches_torch(tmp_path):
    def calls(writer, as_tensor):
        writer.add_text("notes", "**lr** = 0.1, ünïcode", 3)

    ours = _assert_same_summaries(tmp_path, calls)
    (event,) = _accumulator(ours).Tensors("notes/text_summary")
    assert event.step == 3
    assert event.tensor_proto.string_val == ["**lr** = 0.1, ünïcode".encode()]


def test_audio_matches_torch(tmp_path):
    samples = RNG.uniform(-1.2, 1.2, 200).astype(np.float32)

    def calls(writer, as_tensor):
        writer.add_audio("sound", as_tensor(samples[None]), 0, sample_rate=8000)

    ours = _assert_same_summaries(tmp_path, calls)
    (event,) = _accumulator(ours).Audio("sound")
    assert (event.sample_rate, event.length_frames) == (8000, 200)


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "int64", "int32",
                                   "uint8", "bool", "complex64"])
def test_add_tensor_matches_torch(tmp_path, dtype):
    array = (RNG.standard_normal((2, 3)) * 10).astype(dtype)

    def calls(writer, as_tensor):
        writer.add_tensor("t", as_tensor(array), 5)

    ours, theirs = _both(tmp_path, calls)
    ((_, mine),), ((_, reference),) = _summaries(ours), _summaries(theirs)
    assert mine.tensor.dtype == reference.tensor.dtype
    assert mine.tensor.tensor_shape == reference.tensor.tensor_shape
    if dtype == "float16":      # torch stores the float32 bits of each value
        from tensorboard.util import tensor_util
        np.testing.assert_array_equal(tensor_util.make_ndarray(mine.tensor), array)
    else:
        assert mine.tensor == reference.tensor


# ---------------------------------------------------------------- hparams, pr curves, layouts

def test_hparams_match_torch(tmp_path):
    def calls(writer, as_tensor):
        # torch reads element [0] of a tensor hyperparameter: give it a 1-d one
        hp = {"lr": 0.1, "layers": 3, "optimizer": "adam", "nesterov": True, "skip": None,
              "momentum": as_tensor([0.9])}
        metrics = {"hparam/accuracy": 0.75, "hparam/loss": as_tensor(0.5)}
        writer.add_hparams(hp, metrics, {"optimizer": ["adam", "sgd"]}, run_name="trial",
                           global_step=2)

    ours, theirs = _both(tmp_path, calls)
    mine, reference = _summaries(ours / "trial"), _summaries(theirs / "trial")
    assert mine == reference
    start = HParamsPluginData.FromString(mine[1][1].metadata.plugin_data.content)
    values = start.session_start_info.hparams
    assert values["optimizer"].string_value == "adam"
    assert values["layers"].number_value == 3 and values["nesterov"].number_value == 1
    assert values["momentum"].number_value == pytest.approx(0.9)
    assert "skip" not in values
    scalars = _accumulator(ours / "trial")
    assert scalars.Scalars("hparam/loss")[0].value == 0.5


def test_hparams_zero_dim_tensor_and_bad_input(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        writer.add_hparams({"momentum": ember.tensor(0.5, requires_grad=True)}, {"m": 1.0},
                           run_name="zero_dim")
        start = _summaries(tmp_path / "zero_dim")[1][1]
        content = HParamsPluginData.FromString(start.metadata.plugin_data.content)
        assert content.session_start_info.hparams["momentum"].number_value == 0.5
        with pytest.raises(TypeError, match="dictionary"):
            writer.add_hparams([("lr", 0.1)], {})
        with pytest.raises(ValueError, match="'opt'"):
            writer.add_hparams({"opt": object()}, {})
        with pytest.raises(TypeError, match="hparam_domain_discrete"):
            writer.add_hparams({"lr": 0.1}, {}, {"lr": ["a"]})


@pytest.mark.parametrize("num_thresholds", [127, 10, 500])
def test_pr_curves_match_torch(tmp_path, num_thresholds):
    labels = RNG.integers(0, 2, 50)
    predictions = RNG.random(50).astype(np.float32)
    weights = RNG.random(50)

    def calls(writer, as_tensor):
        writer.add_pr_curve("pr", as_tensor(labels), as_tensor(predictions), 1,
                            num_thresholds=num_thresholds)
        writer.add_pr_curve("weighted", labels, predictions, 1,
                            num_thresholds=num_thresholds, weights=weights)
        counts = [np.arange(4.0) + k for k in range(6)]
        writer.add_pr_curve_raw("raw", *[as_tensor(c) for c in counts], global_step=2,
                                num_thresholds=4)

    ours = _assert_same_summaries(tmp_path, calls)
    (event,) = _accumulator(ours).Tensors("pr")
    assert tuple(d.size for d in event.tensor_proto.tensor_shape.dim) == (
        6, min(num_thresholds, 127))


def test_custom_scalars_match_torch(tmp_path):
    def calls(writer, as_tensor):
        writer.add_custom_scalars({"Losses": {"both": ["Multiline", ["loss/train", "loss/val"]]},
                                   "Bands": {"acc": ["Margin", ["acc", "acc_lo", "acc_hi"]]}})
        writer.add_custom_scalars_multilinechart(["a", "b"], category="c", title="t")
        writer.add_custom_scalars_marginchart(["a", "b", "c"])

    _assert_same_summaries(tmp_path, calls)
    with SummaryWriter(tmp_path / "bad") as writer:
        with pytest.raises(AssertionError, match="3 tags"):
            writer.add_custom_scalars_marginchart(["a", "b"])


# ---------------------------------------------------------------- embeddings

def test_embedding_files_match_torch(tmp_path):
    mat = RNG.standard_normal((6, 4)).astype(np.float32)
    images = RNG.random((6, 3, 4, 5)).astype(np.float32)

    def calls(writer, as_tensor):
        writer.add_embedding(as_tensor(mat), metadata=list("abcdef"),
                             label_img=as_tensor(images), tag="feat/ures")
        writer.add_embedding(as_tensor(mat), metadata=[[k, k % 2] for k in range(6)],
                             metadata_header=["index", "parity"], global_step=3)

    ours, theirs = _both(tmp_path, calls)
    for name in ("projector_config.pbtxt", "00000/feat%2fures/tensors.tsv",
                 "00000/feat%2fures/metadata.tsv", "00003/default/metadata.tsv",
                 "00003/default/tensors.tsv"):
        assert (ours / name).read_text() == (theirs / name).read_text(), name
    from PIL import Image
    mine = np.asarray(Image.open(ours / "00000/feat%2fures/sprite.png"))
    reference = np.asarray(Image.open(theirs / "00000/feat%2fures/sprite.png"))
    np.testing.assert_array_equal(mine, reference)


def test_embedding_sprite_of_uint8_images(tmp_path):
    from PIL import Image
    images = RNG.integers(0, 256, (4, 3, 2, 3)).astype(np.uint8)
    with SummaryWriter(tmp_path) as writer:
        writer.add_embedding(ember.randn(4, 2), label_img=ember.tensor(images))
    sprite = np.asarray(Image.open(tmp_path / "00000/default/sprite.png"))
    assert sprite.shape == (6, 6, 3)            # 2 x 2 images of 2 x 3, padded square
    np.testing.assert_array_equal(sprite[2:4, 3:6], images[3].transpose(1, 2, 0))
    np.testing.assert_array_equal(sprite[4:], 0)


def test_embedding_bad_input(tmp_path):
    with SummaryWriter(tmp_path) as writer:
        with pytest.raises(AssertionError, match="2D"):
            writer.add_embedding(ember.ones(3))
        with pytest.raises(AssertionError, match="#labels"):
            writer.add_embedding(ember.ones(3, 2), metadata=["a"])


# ---------------------------------------------------------------- graphs

def test_add_graph(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(4, 3), ember.nn.ReLU(), ember.nn.Linear(3, 2))
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, ember.randn(5, 4))
    graph = _accumulator(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    assert nodes["input/input"].op == "IO Node"
    assert {"0/weight", "0/bias", "2/weight", "2/bias"} <= set(nodes)
    ops = [n for n in graph.node if n.op.startswith("ember::")]
    assert [n.op for n in ops] == ["ember::t", "ember::addmm", "ember::relu", "ember::t",
                                   "ember::addmm"]
    assert list(ops[1].input) == ["0/bias", "input/input", ops[0].name]
    assert list(ops[2].input) == [ops[1].name]
    shape = ops[2].attr["_output_shapes"].list.shape[0]
    assert [d.size for d in shape.dim] == [5, 3]
    (output,) = [n for n in graph.node if n.name.startswith("output/")]
    assert list(output.input) == [ops[-1].name]
    # every edge names a node of the graph
    assert all(i.split(":")[0] in nodes for n in graph.node for i in n.input)


def test_add_graph_traces_in_eval_mode_and_restores_the_modes(tmp_path):
    model = ember.nn.Sequential(ember.nn.Linear(4, 4), ember.nn.Dropout(0.5),
                                ember.nn.BatchNorm1d(4))
    model[2].eval()
    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(model, ember.randn(3, 4))
    assert [m.training for m in model.modules()] == [True, True, True, False]
    ops = [n.op for n in _accumulator(tmp_path).Graph().node if n.op.startswith("ember::")]
    assert not any("dropout" in op for op in ops)


def test_add_graph_multiple_outputs_and_inputs(tmp_path):
    def fn(x, y):
        a, b = (x * y).chunk(2)
        return a + 1, b

    with SummaryWriter(tmp_path) as writer:
        writer.add_graph(fn, (ember.ones(4), ember.ones(4)))
        with pytest.raises(TypeError, match="input_to_model"):
            writer.add_graph(fn)
    graph = _accumulator(tmp_path).Graph()
    nodes = {n.name: n for n in graph.node}
    assert {"input/x", "input/y", "output/output0", "output/output1"} <= set(nodes)
    (split,) = [n for n in graph.node if n.op == "ember::split"]
    assert len(split.attr["_output_shapes"].list.shape) == 2
    assert list(nodes["output/output1"].input) == [f"{split.name}:1"]


# ---------------------------------------------------------------- the writer itself

def test_default_log_dir(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    writer = SummaryWriter(comment="_lr0.1")
    logdir = writer.get_logdir()
    writer.close()
    assert os.path.dirname(logdir) == "runs"
    assert os.path.basename(logdir).endswith("_" + socket.gethostname() + "_lr0.1")
    assert os.path.isdir(logdir)
    ours = TorchWriter(comment="_lr0.1")
    ours.close()
    assert len(os.path.basename(ours.get_logdir())) == len(os.path.basename(logdir))


def test_purge_step_and_file_names(tmp_path):
    with SummaryWriter(tmp_path, purge_step=5, filename_suffix=".exp") as writer:
        writer.add_scalar("x", 1.0, 5)
    (name,) = os.listdir(tmp_path)
    assert name.startswith("events.out.tfevents.") and name.endswith(".exp")
    events = _events(tmp_path)
    assert events[0].file_version == "brain.Event:2"
    purge = [e for e in events if e.HasField("session_log")]
    assert purge[0].step == 5 and purge[0].session_log.status == purge[0].session_log.START


def test_flush_close_and_reopen(tmp_path):
    writer = SummaryWriter(tmp_path, flush_secs=1000)
    writer.add_scalar("x", 1.0, 0)
    writer.flush()
    assert [e.value for e in _accumulator(tmp_path).Scalars("x")] == [1.0]
    writer.close()
    writer.close()                      # a second close does nothing
    writer.flush()
    writer.add_scalar("x", 2.0, 1)      # opens a new event file
    writer.close()
    assert len([f for f in os.listdir(tmp_path) if f.startswith("events")]) == 2
    assert [e.value for e in _accumulator(tmp_path).Scalars("x")] == [1.0, 2.0]


def test_file_writer(tmp_path):
    from tensorboard.compat.proto.summary_pb2 import Summary
    writer = FileWriter(tmp_path)
    assert writer.get_logdir() == str(tmp_path)
    writer.add_summary(Summary(value=[Summary.Value(tag="x", simple_value=2.0)]), 4, 1.0)
    writer.close()
    (event,) = _accumulator(tmp_path).Scalars("x")
    assert (event.step, event.value, event.wall_time) == (4, 2.0, 1.0)


def test_missing_tensorboard_raises_a_clear_import_error(monkeypatch):
    for name in [m for m in sys.modules if m.startswith("ember.utils.tensorboard")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        importlib.import_module("ember.utils.tensorboard")
