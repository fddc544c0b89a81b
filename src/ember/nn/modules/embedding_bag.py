"""``nn.EmbeddingBag``: sums, means or maxima of bags of embeddings."""
import ember
from ember.nn import init
from ember.nn._functional.embedding_bag import embedding_bag
from ember.nn.modules.module import Module
from ember.nn.parameter import Parameter


class EmbeddingBag(Module):
    """A table of embeddings reduced per bag of indices (sum, mean or max).

    Parameters
    ----------
    num_embeddings : int
    embedding_dim : int
    max_norm : float, optional
    norm_type : float, default 2.0
    scale_grad_by_freq : bool, default False
    mode : {'mean', 'sum', 'max'}, default 'mean'
    sparse : bool, default False
        Give ``weight`` a sparse COO gradient (not with ``mode='max'``), as
        :class:`Embedding` does.
    _weight : Tensor, optional
        Initial table, used as is.
    include_last_offset : bool, default False
    padding_idx : int, optional
        Entries equal to it are left out of their bag; its row is zeroed.
    device, dtype : optional

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> bag = nn.EmbeddingBag(10, 3, mode="sum")
    >>> bag(ember.tensor([1, 2, 4, 5]), ember.tensor([0, 2])).shape
    ember.Size([2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, mode="mean", sparse=False, _weight=None,
                 include_last_offset=False, padding_idx=None, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise AssertionError("padding_idx must be within num_embeddings")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.mode = mode
        self.sparse = sparse
        self.include_last_offset = include_last_offset
        if _weight is None:
            self.weight = Parameter(ember.empty((num_embeddings, embedding_dim), device=device,
                                                dtype=dtype))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight)

    def reset_parameters(self):
        """Draw the table from ``N(0, 1)`` and zero the padding row."""
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with ember.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input, offsets=None, per_sample_weights=None):
        """Reduce the bags of ``input`` (see :func:`ember.nn.functional.embedding_bag`)."""
        return embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type,
                             self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                             self.include_last_offset, self.padding_idx)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        text += f", mode='{self.mode}'"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, max_norm=None, norm_type=2.0,
                        scale_grad_by_freq=False, mode="mean", sparse=False,
                        include_last_offset=False, padding_idx=None):
        """Build an ``EmbeddingBag`` whose table is ``embeddings`` (2-D).

        Parameters
        ----------
        embeddings : Tensor
            ``(num_embeddings, embedding_dim)`` table, used as the weight.
        freeze : bool, default True
            Keep the table fixed.
        max_norm, norm_type, scale_grad_by_freq, mode, sparse, include_last_offset, padding_idx
            As for the constructor.

        Returns
        -------
        EmbeddingBag
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        bag = cls(rows, cols, max_norm, norm_type, scale_grad_by_freq, mode, sparse, embeddings,
                  include_last_offset, padding_idx)
        bag.weight.requires_grad = not freeze
        return bag
