"""``Embedding``: a lookup table of learnt vectors."""
import ember
from ember.nn import functional as F
from ember.nn import init
from ember.nn.parameter import Parameter
from ember.nn.modules.module import Module

__all__ = ["Embedding", "EmbeddingBag"]


class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_dim``, indexed by integers.

    Parameters
    ----------
    num_embeddings : int
        Number of rows.
    embedding_dim : int
        Size of each row.
    padding_idx : int, optional
        Row that gets no gradient; zeroed at initialisation. Negative values count from the end.
    max_norm : float, optional
        Rows looked up with a larger ``norm_type``-norm are renormalised in place to ``max_norm``.
    norm_type : float, default 2.0
        Norm degree used with ``max_norm``.
    scale_grad_by_freq : bool, default False
        Scale gradients by the inverse frequency of the indices in the batch.
    sparse : bool, default False
        Give ``weight`` a sparse COO gradient (see :func:`ember.nn.functional.embedding`),
        for :class:`~ember.optim.SparseAdam`, :class:`~ember.optim.SGD` or
        :class:`~ember.optim.Adagrad`.
    _weight : Tensor, optional
        Initial table, used as is.
    _freeze : bool, default False
        Whether the table is fixed (no gradient).
    device, dtype : optional
        Where and of what dtype the table is created.

    Attributes
    ----------
    weight : Parameter
        ``(num_embeddings, embedding_dim)``, initialised from ``N(0, 1)``.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> m = nn.Embedding(10, 3, padding_idx=0)
    >>> m(ember.tensor([[0, 2], [4, 9]])).shape
    ember.Size([2, 2, 3])
    """

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None,
                 norm_type=2.0, scale_grad_by_freq=False, sparse=False, _weight=None,
                 _freeze=False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise AssertionError("Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx = padding_idx
        self.max_norm = max_norm
        self.norm_type = norm_type
        self.scale_grad_by_freq = scale_grad_by_freq
        self.sparse = sparse
        if _weight is None:
            self.weight = Parameter(ember.empty((num_embeddings, embedding_dim), device=device,
                                                dtype=dtype), requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise AssertionError("Shape of weight does not match num_embeddings and "
                                     "embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self):
        """Draw the table from ``N(0, 1)`` and zero the padding row."""
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self):
        if self.padding_idx is not None:
            with ember.no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        """Look up the rows indexed by ``input``."""
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    def extra_repr(self):
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            text += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            text += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            text += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            text += ", scale_grad_by_freq=True"
        if self.sparse is not False:
            text += ", sparse=True"
        return text

    @classmethod
    def from_pretrained(cls, embeddings, freeze=True, padding_idx=None, max_norm=None,
                        norm_type=2.0, scale_grad_by_freq=False, sparse=False):
        """Build an ``Embedding`` whose table is ``embeddings`` (2-D).

        Parameters
        ----------
        embeddings : Tensor
            ``(num_embeddings, embedding_dim)`` table, used as the weight.
        freeze : bool, default True
            Keep the table fixed (``weight.requires_grad`` False).
        padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse
            As for the constructor.

        Returns
        -------
        Embedding

        Examples
        --------
        >>> import ember
        >>> from ember import nn
        >>> m = nn.Embedding.from_pretrained(ember.tensor([[1.0, 2.0], [3.0, 4.0]]))
        >>> m(ember.tensor([1]))
        tensor([[3., 4.]])
        """
        if embeddings.dim() != 2:
            raise AssertionError("Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(num_embeddings=rows, embedding_dim=cols, _weight=embeddings, _freeze=freeze,
                   padding_idx=padding_idx, max_norm=max_norm, norm_type=norm_type,
                   scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


# PyTorch defines EmbeddingBag in torch.nn.modules.sparse; ember in its own file
from ember.nn.modules.embedding_bag import EmbeddingBag  # noqa: E402
