"""What the sparse formats share: the shape, and everything read from the values tensor
(dtype, device, autograd state) or done by converting it."""
import ember


class SparseTensorBase:
    """The metadata and conversions of a sparse tensor whose specified values are the
    tensor ``_vals`` and whose shape is ``_shape``; each format adds its index tensors."""

    __slots__ = ()

    @property
    def shape(self):
        """The size of every dim (sparse dims first)."""
        return self._shape

    def size(self, dim=None):
        """The shape, or the size of ``dim``."""
        return self._shape if dim is None else self._shape[dim]

    def dim(self):
        """The number of dims."""
        return len(self._shape)

    @property
    def ndim(self):
        return self.dim()

    def numel(self):
        """The number of elements of the dense equivalent."""
        n = 1
        for s in self._shape:
            n *= s
        return n

    def __len__(self):
        if not self._shape:
            raise TypeError("len() of a 0-d tensor")
        return self._shape[0]

    @property
    def dtype(self):
        """The values' dtype."""
        return self._vals.dtype

    @property
    def device(self):
        """The device holding indices and values."""
        return self._vals.device

    @property
    def is_cuda(self):
        return self._vals.is_cuda

    @property
    def is_cpu(self):
        return self._vals.is_cpu

    def is_floating_point(self):
        return self._vals.is_floating_point()

    def is_complex(self):
        return self._vals.is_complex()

    def element_size(self):
        return self._vals.element_size()

    # ------------------------------------------------------------ autograd
    @property
    def requires_grad(self):
        """Whether the values require a gradient."""
        return self._vals.requires_grad

    def requires_grad_(self, requires_grad=True):
        """Make this sparse leaf record its gradient; returns ``self``."""
        self._vals.requires_grad_(requires_grad)
        return self

    @property
    def is_leaf(self):
        return self._vals.is_leaf

    @property
    def grad_fn(self):
        return self._vals.grad_fn

    # ------------------------------------------------------------ products
    def mm(self, mat2):
        """The product with a dense or sparse matrix (as :func:`ember.mm`)."""
        for x, name in ((self, "self"), (mat2, "mat2")):
            if x.dim() != 2:
                raise RuntimeError(f"{name} must be a matrix")
        return self.matmul(mat2)

    # ------------------------------------------------------------ conversions (``to``)
    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def float(self):
        return self.to(ember.float32)

    def double(self):
        return self.to(ember.float64)

    def half(self):
        return self.to(ember.float16)
