"""TensorBoard logging, as ``torch.utils.tensorboard``: :class:`SummaryWriter` writes
scalars, histograms, images, text, hyperparameters, precision-recall curves,
embeddings and graphs into event files that ``tensorboard --logdir runs`` shows.

Built on the ``tensorboard`` package (its protocol buffers and event-file writer), an
optional dependency: ``pip install tensorboard`` (or ``pip install ember[tensorboard]``).
"""
try:
    import tensorboard  # noqa: F401
except ImportError as error:        # pragma: no cover -- the optional extra is missing
    raise ImportError("TensorBoard logging requires the 'tensorboard' package: "
                      "pip install tensorboard (or pip install ember[tensorboard])") from error

from ember.utils.tensorboard._writer import FileWriter, SummaryWriter

__all__ = ["FileWriter", "SummaryWriter"]
