"""``Summary`` protocol buffers for each kind of record, built from NumPy arrays the
way PyTorch's ``torch.utils.tensorboard.summary`` builds them (so TensorBoard shows
ember's logs and PyTorch's alike)."""
import io
import wave

import numpy as np
from google.protobuf import struct_pb2
from tensorboard.compat.proto.summary_pb2 import HistogramProto, Summary, SummaryMetadata
from tensorboard.compat.proto.tensor_pb2 import TensorProto
from tensorboard.compat.proto.tensor_shape_pb2 import TensorShapeProto
from tensorboard.plugins.custom_scalar import layout_pb2
from tensorboard.plugins.pr_curve.plugin_data_pb2 import PrCurvePluginData
from tensorboard.plugins.text.plugin_data_pb2 import TextPluginData

import ember
from ember.utils.tensorboard._convert import convert_to_hwc, make_np


def _shape_proto(shape):
    return TensorShapeProto(dim=[TensorShapeProto.Dim(size=int(s)) for s in shape])


def _plugin_metadata(name, content=b""):
    return SummaryMetadata(plugin_data=SummaryMetadata.PluginData(plugin_name=name,
                                                                  content=content))


def scalar(tag, value, new_style=False, double_precision=False):
    """One scalar: the ``simple_value`` of the summary, or (``new_style``) a 0-d
    float (``double_precision``: double) tensor of the scalars plugin."""
    array = make_np(value).squeeze()
    if array.ndim != 0:
        raise AssertionError(f"a scalar must have one element: got {array.size} elements "
                             f"in {array.ndim} dimensions")
    value = float(array)
    if not new_style:
        return Summary(value=[Summary.Value(tag=tag, simple_value=value)])
    if double_precision:
        tensor = TensorProto(double_val=[value], dtype="DT_DOUBLE")
    else:
        tensor = TensorProto(float_val=[value], dtype="DT_FLOAT")
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor,
                                        metadata=_plugin_metadata("scalars"))])


# NumPy dtype -> (TensorProto dtype, the TensorProto field that holds the values)
_TENSOR_FIELDS = {
    np.dtype(np.float16): ("DT_HALF", "half_val"),
    np.dtype(np.float32): ("DT_FLOAT", "float_val"),
    np.dtype(np.float64): ("DT_DOUBLE", "double_val"),
    np.dtype(np.int8): ("DT_INT8", "int_val"),
    np.dtype(np.uint8): ("DT_UINT8", "uint32_val"),
    np.dtype(np.int16): ("DT_INT16", "int_val"),
    np.dtype(np.int32): ("DT_INT32", "int_val"),
    np.dtype(np.int64): ("DT_INT64", "int64_val"),
    np.dtype(np.bool_): ("DT_BOOL", "bool_val"),
    np.dtype(np.complex64): ("DT_COMPLEX64", "scomplex_val"),
    np.dtype(np.complex128): ("DT_COMPLEX128", "dcomplex_val"),
}


def tensor_proto(tag, value):
    """A whole tensor, for the tensor plugin (half floats stored by their bit pattern,
    complex numbers as (real, imaginary) pairs, as TensorFlow stores them)."""
    array = make_np(value)
    if array.dtype not in _TENSOR_FIELDS:
        raise ValueError(f"{tag} has unsupported tensor dtype {array.dtype}")
    if array.nbytes >= 1 << 31:
        raise ValueError("tensor is bigger than protocol buffer's hard limit of 2GB in size")
    dtype, field = _TENSOR_FIELDS[array.dtype]
    flat = np.ascontiguousarray(array).reshape(-1)
    if field == "half_val":
        values = flat.view(np.uint16).tolist()
    elif field.endswith("complex_val"):
        values = flat.view(flat.real.dtype).tolist()
    else:
        values = flat.tolist()
    tensor = TensorProto(dtype=dtype, tensor_shape=_shape_proto(array.shape),
                         **{field: values})
    return Summary(value=[Summary.Value(tag=tag, tensor=tensor,
                                        metadata=_plugin_metadata("tensor"))])


def histogram_raw(tag, min, max, num, sum, sum_squares, bucket_limits, bucket_counts):
    """A histogram from its statistics and buckets."""
    hist = HistogramProto(min=min, max=max, num=num, sum=sum, sum_squares=sum_squares,
                          bucket_limit=bucket_limits, bucket=bucket_counts)
    return Summary(value=[Summary.Value(tag=tag, histo=hist)])


def histogram(tag, values, bins, max_bins=None):
    """A histogram of ``values`` with ``np.histogram``'s ``bins``."""
    values = make_np(values).astype(float)
    return Summary(value=[Summary.Value(tag=tag, histo=make_histogram(values, bins, max_bins))])


def make_histogram(values, bins, max_bins=None):
    """The ``HistogramProto`` of ``values``: only the buckets from the first to the last
    non-empty one, plus one empty bucket on the left, since TensorBoard reads a bucket
    as its right edge."""
    if values.size == 0:
        raise ValueError("The input has no element.")
    values = values.reshape(-1)
    counts, limits = np.histogram(values, bins=bins)
    num_bins = len(counts)
    if max_bins is not None and num_bins > max_bins:
        subsampling = num_bins // max_bins
        remainder = num_bins % subsampling
        if remainder != 0:
            counts = np.pad(counts, pad_width=[[0, subsampling - remainder]],
                            mode="constant", constant_values=0)
        counts = counts.reshape(-1, subsampling).sum(axis=-1)
        new_limits = np.empty((counts.size + 1,), limits.dtype)
        new_limits[:-1] = limits[:-1:subsampling]
        new_limits[-1] = limits[-1]
        limits = new_limits

    cum_counts = np.cumsum(np.greater(counts, 0))
    start, end = np.searchsorted(cum_counts, [0, cum_counts[-1] - 1], side="right")
    start, end = int(start), int(end) + 1
    counts = counts[start - 1:end] if start > 0 else np.concatenate([[0], counts[:end]])
    limits = limits[start:end + 1]
    if counts.size == 0 or limits.size == 0:
        raise ValueError("The histogram is empty: no value falls into the bins")
    return HistogramProto(min=values.min(), max=values.max(), num=len(values),
                          sum=values.sum(), sum_squares=values.dot(values),
                          bucket_limit=limits.tolist(), bucket=counts.tolist())


def image(tag, value, dataformats="NCHW"):
    """An image (a batch is tiled into a grid): uint8 values are kept, floats are taken
    in [0, 1] and scaled by 255; then clipped to [0, 255] and PNG-encoded."""
    array = convert_to_hwc(make_np(value), dataformats)
    scale = 1 if array.dtype == np.uint8 else 255
    array = (array.astype(np.float32) * scale).clip(0, 255).astype(np.uint8)
    return Summary(value=[Summary.Value(tag=tag, image=make_image(array))])


def make_image(array):
    """The PNG ``Summary.Image`` of an ``(H, W, C)`` uint8 array: C 2 (gray and
    alpha), 3 (RGB) or 4 (RGBA); gray without alpha has been made RGB before."""
    from PIL import Image

    height, width, channels = array.shape
    if channels not in (2, 3, 4):
        raise TypeError(f"an image needs 1 (gray), 2 (gray and alpha), 3 (RGB) or 4 (RGBA) "
                        f"channels, got "
                        f"{channels} (shape {tuple(array.shape)} in HWC order)")
    picture = Image.fromarray(array)
    with io.BytesIO() as output:
        picture.save(output, format="PNG")
        encoded = output.getvalue()
    return Summary.Image(height=height, width=width, colorspace=channels,
                         encoded_image_string=encoded)


def audio(tag, value, sample_rate=44100):
    """A mono WAV clip of values in [-1, 1] (clipped), as 16-bit samples."""
    array = make_np(value).squeeze()
    if array.ndim != 1:
        raise AssertionError(f"audio must be one channel of samples: got shape "
                             f"{tuple(array.shape)}")
    if array.size and abs(array).max() > 1:
        print("warning: audio amplitude out of range, auto clipped.")
        array = array.clip(-1, 1)
    samples = (array * np.iinfo(np.int16).max).astype("<i2")
    with io.BytesIO() as output:
        with wave.open(output, "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(sample_rate)
            wav.writeframes(samples.tobytes())
        encoded = output.getvalue()
    clip = Summary.Audio(sample_rate=sample_rate, num_channels=1,
                         length_frames=samples.shape[-1], encoded_audio_string=encoded,
                         content_type="audio/wav")
    return Summary(value=[Summary.Value(tag=tag, audio=clip)])


def text(tag, text_string):
    """A string for the text plugin (Markdown), under ``<tag>/text_summary``."""
    metadata = _plugin_metadata("text", TextPluginData(version=0).SerializeToString())
    tensor = TensorProto(dtype="DT_STRING", string_val=[text_string.encode("utf_8")],
                         tensor_shape=_shape_proto([1]))
    return Summary(value=[Summary.Value(tag=tag + "/text_summary", metadata=metadata,
                                        tensor=tensor)])


def custom_scalars(layout):
    """The layout of the custom-scalars plugin: ``{category: {chart: [kind, tags]}}``
    with kind ``"Multiline"`` or ``"Margin"`` (three tags: value, lower, upper)."""
    categories = []
    for category, charts in layout.items():
        chart_protos = []
        for title, (kind, tags) in charts.items():
            if kind == "Margin":
                if len(tags) != 3:
                    raise AssertionError(f"a Margin chart needs 3 tags (value, lower, "
                                         f"upper), got {len(tags)}")
                series = layout_pb2.MarginChartContent.Series(value=tags[0], lower=tags[1],
                                                              upper=tags[2])
                chart = layout_pb2.Chart(
                    title=title, margin=layout_pb2.MarginChartContent(series=[series]))
            else:
                chart = layout_pb2.Chart(
                    title=title, multiline=layout_pb2.MultilineChartContent(tag=tags))
            chart_protos.append(chart)
        categories.append(layout_pb2.Category(title=category, chart=chart_protos))
    tensor = TensorProto(dtype="DT_STRING",
                         string_val=[layout_pb2.Layout(category=categories).SerializeToString()],
                         tensor_shape=TensorShapeProto())
    return Summary(value=[Summary.Value(tag="custom_scalars__config__", tensor=tensor,
                                        metadata=_plugin_metadata("custom_scalars"))])


def _pr_curve_summary(tag, data, num_thresholds):
    content = PrCurvePluginData(version=0, num_thresholds=num_thresholds).SerializeToString()
    tensor = TensorProto(dtype="DT_FLOAT", float_val=data.reshape(-1).tolist(),
                         tensor_shape=_shape_proto(data.shape))
    return Summary(value=[Summary.Value(tag=tag, metadata=_plugin_metadata("pr_curves", content),
                                        tensor=tensor)])


def pr_curve_raw(tag, tp, fp, tn, fn, precision, recall, num_thresholds=127):
    """A precision-recall curve from its counts per threshold."""
    data = np.stack([make_np(x) for x in (tp, fp, tn, fn, precision, recall)])
    # the plugin reads at most 127 thresholds
    return _pr_curve_summary(tag, data, min(num_thresholds, 127))


def pr_curve(tag, labels, predictions, num_thresholds=127, weights=None):
    """A precision-recall curve of binary ``labels`` against ``predictions`` in [0, 1]."""
    num_thresholds = min(num_thresholds, 127)
    data = compute_curve(make_np(labels), make_np(predictions), num_thresholds, weights)
    return _pr_curve_summary(tag, data, num_thresholds)


def compute_curve(labels, predictions, num_thresholds, weights=None):
    """Rows tp, fp, tn, fn, precision, recall at ``num_thresholds`` thresholds evenly
    spaced in [0, 1] (TensorBoard's ``pr_curve`` summary)."""
    minimum_count = 1e-7
    weights = 1.0 if weights is None else make_np(weights)
    bucket_indices = np.int32(np.floor(predictions * (num_thresholds - 1)))
    float_labels = labels.astype(np.float64)
    histogram_range = (0, num_thresholds - 1)
    tp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=float_labels * weights)
    fp_buckets, _ = np.histogram(bucket_indices, bins=num_thresholds, range=histogram_range,
                                 weights=(1.0 - float_labels) * weights)
    # reverse cumulative sums: counts at or above each threshold
    tp = np.cumsum(tp_buckets[::-1])[::-1]
    fp = np.cumsum(fp_buckets[::-1])[::-1]
    tn = fp[0] - fp
    fn = tp[0] - tp
    precision = tp / np.maximum(minimum_count, tp + fp)
    recall = tp / np.maximum(minimum_count, tp + fn)
    return np.stack((tp, fp, tn, fn, precision, recall))


def hparams(hparam_dict, metric_dict, hparam_domain_discrete=None):
    """The three summaries of the hparams plugin: the experiment (names of the
    hyperparameters and metrics), the session start (their values) and its end."""
    from tensorboard.plugins.hparams.api_pb2 import (DataType, Experiment, HParamInfo,
                                                     MetricInfo, MetricName, Status)
    from tensorboard.plugins.hparams.metadata import (EXPERIMENT_TAG, PLUGIN_DATA_VERSION,
                                                      PLUGIN_NAME, SESSION_END_INFO_TAG,
                                                      SESSION_START_INFO_TAG)
    from tensorboard.plugins.hparams.plugin_data_pb2 import (HParamsPluginData,
                                                             SessionEndInfo,
                                                             SessionStartInfo)

    hparam_domain_discrete = hparam_domain_discrete or {}
    if not isinstance(hparam_domain_discrete, dict):
        raise TypeError("parameter: hparam_domain_discrete should be a dictionary, "
                        "nothing logged.")
    for k, v in hparam_domain_discrete.items():
        if k not in hparam_dict or not isinstance(v, list) or not all(
                isinstance(d, type(hparam_dict[k])) for d in v):
            raise TypeError(f"parameter: hparam_domain_discrete[{k}] should be a list of "
                            f"same type as hparam_dict[{k}].")

    def discrete(k, field):
        if k not in hparam_domain_discrete:
            return None
        return struct_pb2.ListValue(values=[struct_pb2.Value(**{field: d})
                                            for d in hparam_domain_discrete[k]])

    infos, start = [], SessionStartInfo()
    for k, v in hparam_dict.items():
        if v is None:
            continue
        # a bool is an int: logged as the number 0 or 1, as PyTorch does
        if isinstance(v, (int, float)):
            start.hparams[k].number_value = v
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64"),
                                    domain_discrete=discrete(k, "number_value")))
        elif isinstance(v, str):
            start.hparams[k].string_value = v
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_STRING"),
                                    domain_discrete=discrete(k, "string_value")))
        elif isinstance(v, (ember.Tensor, np.ndarray)):
            start.hparams[k].number_value = float(make_np(v).reshape(-1)[0])
            infos.append(HParamInfo(name=k, type=DataType.Value("DATA_TYPE_FLOAT64")))
        else:
            raise ValueError(f"hparam {k!r}: the value should be one of int, float, str, "
                             f"bool, or ember.Tensor, got {type(v).__name__}")

    def plugin_summary(tag, **content):
        data = HParamsPluginData(version=PLUGIN_DATA_VERSION, **content)
        return Summary(value=[Summary.Value(
            tag=tag, metadata=_plugin_metadata(PLUGIN_NAME, data.SerializeToString()))])

    experiment = Experiment(hparam_infos=infos,
                            metric_infos=[MetricInfo(name=MetricName(tag=k))
                                          for k in metric_dict])
    return (plugin_summary(EXPERIMENT_TAG, experiment=experiment),
            plugin_summary(SESSION_START_INFO_TAG, session_start_info=start),
            plugin_summary(SESSION_END_INFO_TAG, session_end_info=SessionEndInfo(
                status=Status.Value("STATUS_SUCCESS"))))
