"""``SummaryWriter``: training logs in TensorBoard's event-file format, with the
methods and arguments of ``torch.utils.tensorboard.SummaryWriter``."""
import os
import socket
import time
from datetime import datetime

from google.protobuf import text_format
from tensorboard.compat.proto.event_pb2 import Event, SessionLog
from tensorboard.plugins.projector.projector_config_pb2 import ProjectorConfig
from tensorboard.summary.writer.event_file_writer import EventFileWriter

from ember.utils.tensorboard import _embedding, _summary
from ember.utils.tensorboard._convert import figure_to_image, make_np

__all__ = ["FileWriter", "SummaryWriter"]


def _default_bins():
    """TensorFlow's histogram buckets: +-1e-12 growing by 10% up to 1e20, and 0."""
    v, buckets = 1e-12, []
    while v < 1e20:
        buckets.append(v)
        v *= 1.1
    return [-b for b in reversed(buckets)] + [0] + buckets


class FileWriter:
    """Writes ``Event`` protocol buffers to one event file in ``log_dir``.

    The low-level writer under :class:`SummaryWriter`: events are queued and written by
    a background thread, at the latest every ``flush_secs`` seconds or once
    ``max_queue`` events wait.

    Parameters
    ----------
    log_dir : str or os.PathLike
        The directory of the event file (made if missing).
    max_queue : int, optional
        How many events may wait before an ``add`` call writes them.
    flush_secs : float, optional
        How often the waiting events are written.
    filename_suffix : str, optional
        Appended to the event file's name
        (``events.out.tfevents.<time>.<host>.<pid>.<n><suffix>``).
    """

    def __init__(self, log_dir, max_queue=10, flush_secs=120, filename_suffix=""):
        self.event_writer = EventFileWriter(str(log_dir), max_queue, flush_secs,
                                            filename_suffix)

    def get_logdir(self):
        """The directory of the event file.

        Returns
        -------
        str
        """
        return self.event_writer.get_logdir()

    def add_event(self, event, step=None, walltime=None):
        """Queue an ``Event`` protocol buffer.

        Parameters
        ----------
        event : tensorboard.compat.proto.event_pb2.Event
            Its ``wall_time`` (and ``step``, when given) are set here.
        step : int, optional
            The global step.
        walltime : float, optional
            Seconds since the epoch; :func:`time.time` by default.
        """
        event.wall_time = time.time() if walltime is None else walltime
        if step is not None:
            # a NumPy integer or a 0-d tensor: protobuf wants a Python int
            event.step = int(step)
        self.event_writer.add_event(event)

    def add_summary(self, summary, global_step=None, walltime=None):
        """Queue a ``Summary`` protocol buffer, wrapped in an event.

        Parameters
        ----------
        summary : tensorboard.compat.proto.summary_pb2.Summary
        global_step : int, optional
        walltime : float, optional
        """
        self.add_event(Event(summary=summary), global_step, walltime)

    def add_graph_def(self, graph_def, walltime=None):
        """Queue a ``GraphDef`` protocol buffer for the graphs dashboard.

        Parameters
        ----------
        graph_def : tensorboard.compat.proto.graph_pb2.GraphDef
        walltime : float, optional
        """
        self.add_event(Event(graph_def=graph_def.SerializeToString()), None, walltime)

    def flush(self):
        """Write the queued events to disk."""
        self.event_writer.flush()

    def close(self):
        """Write the queued events and close the event file."""
        self.event_writer.close()


class SummaryWriter:
    """Writes scalars, histograms, images, text and more into event files that
    TensorBoard (``tensorboard --logdir runs``) shows, as PyTorch's
    ``torch.utils.tensorboard.SummaryWriter``.

    Values may be ember tensors (on any device, requiring grad or not), NumPy arrays
    or Python numbers.  Writing is asynchronous: events reach the file every
    ``flush_secs`` seconds, when ``max_queue`` events wait, on :meth:`flush` and on
    :meth:`close` (or at the end of a ``with`` block).

    Parameters
    ----------
    log_dir : str or os.PathLike, optional
        Where the event files go.  By default ``runs/<date>_<time>_<hostname><comment>``,
        new for each run; give ``runs/exp1``, ``runs/exp2``, ... to compare runs.
    comment : str, optional
        Appended to the default ``log_dir``; ignored when ``log_dir`` is given.
    purge_step : int, optional
        When a crashed run restarts from step ``T``, pass ``T``: TensorBoard then hides
        the events of steps ``>= T`` written before the crash (same ``log_dir``).
    max_queue : int, optional
        How many events may wait before an ``add_*`` call writes them.
    flush_secs : float, optional
        How often, in seconds, waiting events are written.
    filename_suffix : str, optional
        Appended to the names of the event files.

    Examples
    --------
    >>> import tempfile, ember
    >>> from ember.utils.tensorboard import SummaryWriter
    >>> with tempfile.TemporaryDirectory() as logdir:
    ...     with SummaryWriter(logdir) as writer:
    ...         for step in range(3):
    ...             writer.add_scalar("loss", ember.tensor(1.0 / (step + 1)), step)
    """

    def __init__(self, log_dir=None, comment="", purge_step=None, max_queue=10,
                 flush_secs=120, filename_suffix=""):
        if not log_dir:
            current_time = datetime.now().strftime("%b%d_%H-%M-%S")
            log_dir = os.path.join("runs", current_time + "_" + socket.gethostname() + comment)
        self.log_dir = log_dir
        self.purge_step = purge_step
        self.max_queue = max_queue
        self.flush_secs = flush_secs
        self.filename_suffix = filename_suffix
        # made again on the first add after close()
        self.file_writer = self.all_writers = None
        self._get_file_writer()
        self.default_bins = _default_bins()

    def _get_file_writer(self):
        if self.all_writers is None or self.file_writer is None:
            self.file_writer = FileWriter(self.log_dir, self.max_queue, self.flush_secs,
                                          self.filename_suffix)
            self.all_writers = {self.file_writer.get_logdir(): self.file_writer}
            if self.purge_step is not None:
                step, self.purge_step = self.purge_step, None
                self.file_writer.add_event(Event(step=step, file_version="brain.Event:2"))
                self.file_writer.add_event(
                    Event(step=step, session_log=SessionLog(status=SessionLog.START)))
        return self.file_writer

    def get_logdir(self):
        """The directory the event files are written to.

        Returns
        -------
        str or os.PathLike
            ``log_dir`` as given, or the default one made from the date and host.
        """
        return self.log_dir

    def add_scalar(self, tag, scalar_value, global_step=None, walltime=None,
                   new_style=False, double_precision=False):
        """Log one number.

        Parameters
        ----------
        tag : str
            The series name (``"loss/train"``: a ``/`` groups series in TensorBoard).
        scalar_value : float, int, ember.Tensor or numpy.ndarray
            One element (a tensor of any shape with one element).
        global_step : int, optional
            The step the value belongs to.
        walltime : float, optional
            Seconds since the epoch; :func:`time.time` by default.
        new_style : bool, optional
            Store the value as a tensor of the scalars plugin instead of the summary's
            ``simple_value`` (faster for TensorBoard to load).
        double_precision : bool, optional
            With ``new_style``, store a double instead of a float.

        Raises
        ------
        AssertionError
            When the value has more than one element.
        NotImplementedError
            When the value is not a number, an array or a tensor.
        """
        summary = _summary.scalar(tag, scalar_value, new_style=new_style,
                                  double_precision=double_precision)
        self._get_file_writer().add_summary(summary, global_step, walltime)

    def add_scalars(self, main_tag, tag_scalar_dict, global_step=None, walltime=None):
        """Log several numbers on one chart.

        Each series is written to its own run, the subdirectory
        ``<log_dir>/<main_tag>_<tag>`` (``/`` in ``main_tag`` replaced by ``_``), under
        the tag ``main_tag``.

        Parameters
        ----------
        main_tag : str
        tag_scalar_dict : dict
            ``{tag: value}``, values as in :meth:`add_scalar`.
        global_step : int, optional
        walltime : float, optional
        """
        walltime = time.time() if walltime is None else walltime
        fw_logdir = self._get_file_writer().get_logdir()
        for tag, scalar_value in tag_scalar_dict.items():
            fw_tag = fw_logdir + "/" + main_tag.replace("/", "_") + "_" + tag
            if fw_tag not in self.all_writers:
                self.all_writers[fw_tag] = FileWriter(fw_tag, self.max_queue,
                                                      self.flush_secs, self.filename_suffix)
            self.all_writers[fw_tag].add_summary(_summary.scalar(main_tag, scalar_value),
                                                 global_step, walltime)

    def add_tensor(self, tag, tensor, global_step=None, walltime=None):
        """Log a whole tensor (for the tensor plugin, or to read back with
        TensorBoard's data APIs).

        Parameters
        ----------
        tag : str
        tensor : ember.Tensor or numpy.ndarray
            Of a boolean, integer, floating or complex dtype.
        global_step : int, optional
        walltime : float, optional

        Raises
        ------
        ValueError
            For a dtype the ``TensorProto`` cannot hold (bfloat16 is written as float32).
        """
        self._get_file_writer().add_summary(_summary.tensor_proto(tag, tensor),
                                            global_step, walltime)

    def add_histogram(self, tag, values, global_step=None, bins="tensorflow", walltime=None,
                      max_bins=None):
        """Log the distribution of values.

        Parameters
        ----------
        tag : str
        values : ember.Tensor, numpy.ndarray or number
            Any shape; taken as float64.
        global_step : int, optional
        bins : str, int or sequence of float, optional
            ``"tensorflow"``: TensorFlow's buckets (exponentially wider away from 0);
            otherwise the ``bins`` of :func:`numpy.histogram` (a count, edges, or a
            NumPy rule such as ``"auto"``, ``"fd"``, ``"sqrt"``).
        walltime : float, optional
        max_bins : int, optional
            Merge neighbouring buckets down to at most about this many.

        Raises
        ------
        ValueError
            For an empty input, or bins NumPy refuses (such as a count with NaN values).
        """
        if isinstance(bins, str) and bins == "tensorflow":
            bins = self.default_bins
        self._get_file_writer().add_summary(
            _summary.histogram(tag, values, bins, max_bins=max_bins), global_step, walltime)

    def add_histogram_raw(self, tag, min, max, num, sum, sum_squares, bucket_limits,
                          bucket_counts, global_step=None, walltime=None):
        """Log a histogram already counted.

        Parameters
        ----------
        tag : str
        min, max : float
            The smallest and largest value.
        num : int
            How many values.
        sum, sum_squares : float
            Their sum and the sum of their squares.
        bucket_limits : sequence of float
            The right edge of each bucket.
        bucket_counts : sequence of float
            How many values fall in each bucket.
        global_step : int, optional
        walltime : float, optional

        Raises
        ------
        ValueError
            When ``bucket_limits`` and ``bucket_counts`` differ in length.
        """
        if len(bucket_limits) != len(bucket_counts):
            raise ValueError("len(bucket_limits) != len(bucket_counts), see the document.")
        self._get_file_writer().add_summary(
            _summary.histogram_raw(tag, min, max, num, sum, sum_squares,
                                   list(bucket_limits), list(bucket_counts)),
            global_step, walltime)

    def add_image(self, tag, img_tensor, global_step=None, walltime=None, dataformats="CHW"):
        """Log an image (needs the ``pillow`` package).

        uint8 values are taken as they are; other dtypes as values in [0, 1], scaled by
        255.  Values outside [0, 255] after scaling are clipped.

        Parameters
        ----------
        tag : str
        img_tensor : ember.Tensor or numpy.ndarray
            The image, laid out as ``dataformats``; with 1 channel (or none: ``"HW"``)
            it is gray, with 2 gray and alpha, with 3 RGB and with 4 RGBA.
        global_step : int, optional
        walltime : float, optional
        dataformats : str, optional
            ``"CHW"``, ``"HWC"``, ``"HW"``, ``"WH"``, ... (or a batched form, as in
            :meth:`add_images`).

        Raises
        ------
        AssertionError
            When the number of dimensions does not match ``dataformats``.
        TypeError
            For more than 4 channels.
        """
        self._get_file_writer().add_summary(
            _summary.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_images(self, tag, img_tensor, global_step=None, walltime=None,
                   dataformats="NCHW"):
        """Log a batch of images, tiled into one image 8 to a row.

        Parameters
        ----------
        tag : str
        img_tensor : ember.Tensor or numpy.ndarray
            The images, laid out as ``dataformats``, with 1 or 3 channels.
        global_step : int, optional
        walltime : float, optional
        dataformats : str, optional
            ``"NCHW"``, ``"NHWC"``, ... (or an unbatched form, as in :meth:`add_image`).

        Raises
        ------
        AssertionError
            When the number of dimensions does not match ``dataformats``, or a batch
            has other than 1 or 3 channels.
        """
        self._get_file_writer().add_summary(
            _summary.image(tag, img_tensor, dataformats=dataformats), global_step, walltime)

    def add_figure(self, tag, figure, global_step=None, close=True, walltime=None):
        """Log a matplotlib figure as an image (needs ``matplotlib``).

        Parameters
        ----------
        tag : str
        figure : matplotlib.figure.Figure or list of Figure
            A list is logged as a batch of images.
        global_step : int, optional
        close : bool, optional
            Close the figures once drawn.
        walltime : float, optional
        """
        images = figure_to_image(figure, close)
        self.add_image(tag, images, global_step, walltime,
                       dataformats="NCHW" if isinstance(figure, list) else "CHW")

    def add_audio(self, tag, snd_tensor, global_step=None, sample_rate=44100, walltime=None):
        """Log a mono sound clip.

        Parameters
        ----------
        tag : str
        snd_tensor : ember.Tensor or numpy.ndarray
            The samples, shape ``(L,)`` or ``(1, L)``, in [-1, 1] (clipped).
        global_step : int, optional
        sample_rate : int, optional
            In Hz.
        walltime : float, optional
        """
        self._get_file_writer().add_summary(
            _summary.audio(tag, snd_tensor, sample_rate=sample_rate), global_step, walltime)

    def add_text(self, tag, text_string, global_step=None, walltime=None):
        """Log a string (Markdown) for the text dashboard, under ``<tag>/text_summary``.

        Parameters
        ----------
        tag : str
        text_string : str
        global_step : int, optional
        walltime : float, optional
        """
        self._get_file_writer().add_summary(_summary.text(tag, text_string), global_step,
                                            walltime)

    def add_hparams(self, hparam_dict, metric_dict, hparam_domain_discrete=None,
                    run_name=None, global_step=None):
        """Log one set of hyperparameters and the metrics it reached, for the HParams
        dashboard.

        Written to the run ``<log_dir>/<run_name>``, with each metric also logged there
        as a scalar.

        Parameters
        ----------
        hparam_dict : dict
            ``{name: value}``, values bool, int, float, str, None (skipped) or a
            one-element tensor.
        metric_dict : dict
            ``{tag: value}``; give tags not used with :meth:`add_scalar` elsewhere.
        hparam_domain_discrete : dict, optional
            ``{name: [every value it can take]}``.
        run_name : str, optional
            The run's directory name; the current time by default.
        global_step : int, optional

        Raises
        ------
        TypeError
            When ``hparam_dict`` or ``metric_dict`` is not a dict.
        ValueError
            For a hyperparameter of another type.
        """
        if type(hparam_dict) is not dict or type(metric_dict) is not dict:
            raise TypeError("hparam_dict and metric_dict should be dictionary.")
        exp, ssi, sei = _summary.hparams(hparam_dict, metric_dict, hparam_domain_discrete)
        if not run_name:
            run_name = str(time.time())
        logdir = os.path.join(self._get_file_writer().get_logdir(), run_name)
        with SummaryWriter(log_dir=logdir) as w_hp:
            for summary in (exp, ssi, sei):
                w_hp.file_writer.add_summary(summary, global_step)
            for k, v in metric_dict.items():
                w_hp.add_scalar(k, v, global_step)

    def add_pr_curve(self, tag, labels, predictions, global_step=None, num_thresholds=127,
                     weights=None, walltime=None):
        """Log a precision-recall curve.

        Parameters
        ----------
        tag : str
        labels : ember.Tensor or numpy.ndarray
            The ground truth, 0 or 1 (or bool) per element.
        predictions : ember.Tensor or numpy.ndarray
            The probability that each element is positive, in [0, 1].
        global_step : int, optional
        num_thresholds : int, optional
            Thresholds evenly spaced in [0, 1]; at most 127.
        weights : ember.Tensor or numpy.ndarray, optional
            A weight per element.
        walltime : float, optional
        """
        self._get_file_writer().add_summary(
            _summary.pr_curve(tag, labels, predictions, num_thresholds, weights),
            global_step, walltime)

    def add_pr_curve_raw(self, tag, true_positive_counts, false_positive_counts,
                         true_negative_counts, false_negative_counts, precision, recall,
                         global_step=None, num_thresholds=127, weights=None, walltime=None):
        """Log a precision-recall curve already counted, one entry per threshold.

        Parameters
        ----------
        tag : str
        true_positive_counts, false_positive_counts : ember.Tensor or numpy.ndarray
        true_negative_counts, false_negative_counts : ember.Tensor or numpy.ndarray
        precision, recall : ember.Tensor or numpy.ndarray
        global_step : int, optional
        num_thresholds : int, optional
            At most 127.
        weights : None
            Unused (PyTorch's signature has it).
        walltime : float, optional
        """
        self._get_file_writer().add_summary(
            _summary.pr_curve_raw(tag, true_positive_counts, false_positive_counts,
                                  true_negative_counts, false_negative_counts, precision,
                                  recall, num_thresholds),
            global_step, walltime)

    def add_custom_scalars(self, layout):
        """Lay out charts of scalar tags for the Custom Scalars dashboard (once per
        writer; before or after the scalars are written).

        Parameters
        ----------
        layout : dict
            ``{category: {chart title: [kind, tags]}}`` where kind is ``"Multiline"``
            (any tags, each a line; regular expressions allowed) or ``"Margin"`` (three
            tags: the value and its lower and upper bounds).
        """
        self._get_file_writer().add_summary(_summary.custom_scalars(layout))

    def add_custom_scalars_multilinechart(self, tags, category="default", title="untitled"):
        """A Custom Scalars layout of one multi-line chart (see :meth:`add_custom_scalars`).

        Parameters
        ----------
        tags : list of str
        category : str, optional
        title : str, optional
        """
        self.add_custom_scalars({category: {title: ["Multiline", tags]}})

    def add_custom_scalars_marginchart(self, tags, category="default", title="untitled"):
        """A Custom Scalars layout of one margin chart (see :meth:`add_custom_scalars`).

        Parameters
        ----------
        tags : list of str
            Three tags: the value, its lower and its upper bound.
        category : str, optional
        title : str, optional
        """
        if len(tags) != 3:
            raise AssertionError(f"Expected 3 tags, got {len(tags)}.")
        self.add_custom_scalars({category: {title: ["Margin", tags]}})

    @staticmethod
    def _encode(rawstr):
        # a tag as one directory name
        return rawstr.replace("%", "%25").replace("/", "%2f").replace("\\", "%5c")

    def add_embedding(self, mat, metadata=None, label_img=None, global_step=None,
                      tag="default", metadata_header=None):
        """Log vectors for the embedding projector, with optional labels and images.

        Written as files under ``<log_dir>/<global_step:05d>/<tag>/`` and listed in
        ``<log_dir>/projector_config.pbtxt``.

        Parameters
        ----------
        mat : ember.Tensor or numpy.ndarray
            ``(N, D)``: one vector per row.
        metadata : list, optional
            N labels (or N rows of columns, with ``metadata_header``).
        label_img : ember.Tensor or numpy.ndarray, optional
            ``(N, C, H, W)`` images (C 1 or 3) shown for the points: uint8 values as
            they are, floats in [0, 1].
        global_step : int, optional
        tag : str, optional
        metadata_header : list of str, optional
            The column names of multi-column ``metadata``.

        Raises
        ------
        AssertionError
            When ``mat`` is not 2-D or ``metadata``/``label_img`` hold another number of
            points.
        """
        mat = make_np(mat)
        if global_step is None:
            global_step = 0
        if mat.ndim != 2:
            raise AssertionError(f"mat should be 2D, where mat.size(0) is the number of "
                                 f"data points: got shape {tuple(mat.shape)}")
        subdir = f"{str(global_step).zfill(5)}/{self._encode(tag)}"
        save_path = os.path.join(self._get_file_writer().get_logdir(), subdir)
        if os.path.isfile(save_path):
            raise NotADirectoryError(f"Path: `{save_path}` exists, but is a file. "
                                     "Cannot proceed.")
        os.makedirs(save_path, exist_ok=True)
        if metadata is not None:
            if mat.shape[0] != len(metadata):
                raise AssertionError("#labels should equal with #data points")
            _embedding.write_tsv(metadata, save_path, metadata_header=metadata_header)
        if label_img is not None:
            label_img = make_np(label_img)
            if mat.shape[0] != label_img.shape[0]:
                raise AssertionError("#images should equal with #data points")
            _embedding.write_sprite(label_img, save_path)
        _embedding.write_vectors(mat, save_path)
        # the config file is rewritten whole: a file system may not append
        if not hasattr(self, "_projector_config"):
            self._projector_config = ProjectorConfig()
        self._projector_config.embeddings.extend(
            [_embedding.embedding_info(metadata, label_img, subdir, global_step, tag)])
        config_path = os.path.join(self._get_file_writer().get_logdir(),
                                   "projector_config.pbtxt")
        with open(config_path, "w") as f:
            f.write(text_format.MessageToString(self._projector_config))

    def add_graph(self, model, input_to_model=None, verbose=False, use_strict_trace=True):
        """Log a model's graph for the graphs dashboard, traced with
        :func:`ember.jit.trace`.

        Each traced op is a node named ``<op>_<n>`` (op ``ember::<op>``) with its output
        shape and dtype; inputs are ``input/<name>``, parameters and buffers take their
        attribute paths (``fc/weight``) and outputs are ``output/output<n>``.

        Parameters
        ----------
        model : ember.nn.Module or callable
        input_to_model : ember.Tensor or tuple of ember.Tensor
            The example inputs of the trace.
        verbose : bool, optional
            Print the traced graph.
        use_strict_trace : bool, optional
            Passed to :func:`ember.jit.trace` as ``strict``.
        """
        from ember.utils.tensorboard._graph import graph_def

        self._get_file_writer().add_graph_def(
            graph_def(model, input_to_model, verbose, use_strict_trace))

    def flush(self):
        """Write every waiting event to disk."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()

    def close(self):
        """Write every waiting event and close the event files (a later ``add_*`` call
        opens a new one)."""
        if self.all_writers is None:
            return
        for writer in self.all_writers.values():
            writer.flush()
            writer.close()
        self.file_writer = self.all_writers = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        self.close()
