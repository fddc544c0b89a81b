"""``AdaptiveLogSoftmaxWithLoss``: the efficient softmax approximation of Grave et al."""
from collections import namedtuple

import ember
from ember.nn import functional as F
from ember.nn.modules.container import ModuleList, Sequential
from ember.nn.modules.linear import Linear
from ember.nn.modules.module import Module

__all__ = ["AdaptiveLogSoftmaxWithLoss"]

_ASMoutput = namedtuple("_ASMoutput", ["output", "loss"])


class AdaptiveLogSoftmaxWithLoss(Module):
    """Adaptive softmax (`Grave et al., 2016 <https://arxiv.org/abs/1609.04309>`__):
    frequent classes get a full-size output, rare ones are grouped into clusters whose
    outputs go through smaller projections.

    The classes ``[0, cutoffs[0])`` form the head's shortlist; each following range
    ``[cutoffs[i], cutoffs[i + 1])`` (the last ending at ``n_classes``) is a cluster,
    one more output of the head, whose classes are scored by the tail
    ``Linear(in_features, in_features // div_value ** (i + 1))`` then
    ``Linear(..., cluster size)``.  A class's log-probability is its cluster's head
    log-probability plus its log-probability within the cluster.  Sort the classes by
    decreasing frequency for the approximation to pay off.

    Parameters
    ----------
    in_features : int
        Number of features of the input.
    n_classes : int
        Number of classes.
    cutoffs : sequence of int
        Increasing, unique cutoffs between 1 and ``n_classes - 1``.
    div_value : float, default 4.0
        Divisor of the cluster projections' sizes.
    head_bias : bool, default False
        Give the head a bias.
    device, dtype : optional
        Where and of what dtype the parameters are created.

    Examples
    --------
    >>> import ember
    >>> from ember import nn
    >>> asm = nn.AdaptiveLogSoftmaxWithLoss(8, 10, cutoffs=[3, 6])
    >>> out = asm(ember.randn(4, 8), ember.tensor([0, 4, 7, 9]))
    >>> out.output.shape, out.loss.shape
    (ember.Size([4]), ember.Size([]))
    >>> asm.log_prob(ember.randn(2, 8)).exp().sum(1).allclose(ember.ones(2))
    True
    """

    def __init__(self, in_features, n_classes, cutoffs, div_value=4.0, head_bias=False,
                 device=None, dtype=None):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("cutoffs should be a sequence of length larger than 0")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError("cutoffs should be a sequence of unique, positive integers sorted "
                             "in an increasing order, where each value is between 1 and "
                             "n_classes-1")
        self.in_features = in_features
        self.n_classes = n_classes
        self.cutoffs = cutoffs + [n_classes]
        self.div_value = div_value
        self.head_bias = head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, device=device,
                           dtype=dtype)
        self.tail = ModuleList()
        for i in range(self.n_clusters):
            hidden = int(in_features // (div_value ** (i + 1)))
            size = self.cutoffs[i + 1] - self.cutoffs[i]
            self.tail.append(Sequential(
                Linear(in_features, hidden, bias=False, device=device, dtype=dtype),
                Linear(hidden, size, bias=False, device=device, dtype=dtype)))

    def reset_parameters(self):
        """Re-initialise the head and the tail projections as the constructor does."""
        self.head.reset_parameters()
        for i2h, h2o in self.tail:
            i2h.reset_parameters()
            h2o.reset_parameters()

    def forward(self, input_, target_):
        """The log-probability of each target and the mean negative log-likelihood.

        Parameters
        ----------
        input_ : Tensor
            ``(N, in_features)``, or ``(in_features,)`` with a 0-D target.
        target_ : Tensor
            ``(N,)`` or ``()`` class indices in ``[0, n_classes)``.

        Returns
        -------
        namedtuple
            ``output`` (``(N,)`` or ``()``), the targets' log-probabilities, and
            ``loss``, their mean negative.
        """
        targ_dim = target_.dim()
        if targ_dim == 1:
            if input_.size(0) != target_.size(0):
                raise RuntimeError("Input and target should have the same size in the batch "
                                   "dimension.")
            if input_.dim() != 2:
                raise RuntimeError("1D target tensor expects 2D input tensors, but found inputs "
                                   f"with size {input_.size()}")
        elif targ_dim == 0:
            if input_.dim() != 1:
                raise RuntimeError("0D target tensor expects 1D input tensors, but found inputs "
                                   f"with size {input_.size()}")
        else:
            raise RuntimeError("0D or 1D target tensor expected, multi-target not supported")
        batched = targ_dim > 0
        input = input_ if batched else input_.unsqueeze(0)
        target = target_ if batched else target_.unsqueeze(0)
        batch_size = target.size(0)
        output = input.new_zeros(batch_size)
        # the head's column each row reads: its class (shortlist) or its cluster
        gather_inds = target.new_empty(batch_size)
        used_rows = 0
        bounds = [0] + self.cutoffs
        for i, (low, high) in enumerate(zip(bounds[:-1], bounds[1:])):
            target_mask = (target >= low) & (target < high)
            rows = target_mask.nonzero().view(-1)
            if rows.numel() == 0:
                continue
            if i == 0:
                gather_inds.index_copy_(0, rows, target[target_mask])
            else:
                cluster_logprob = F.log_softmax(self.tail[i - 1](input.index_select(0, rows)),
                                                dim=1)
                local = cluster_logprob.gather(1, (target[target_mask] - low).unsqueeze(1))
                gather_inds.index_fill_(0, rows, self.shortlist_size + i - 1)
                output.index_copy_(0, rows, local.squeeze(1))
            used_rows += rows.numel()
        if used_rows != batch_size:
            raise RuntimeError(f"Target values should be in [0, {self.n_classes - 1}], but "
                               f"values in range [{target.min().item()}, "
                               f"{target.max().item()}] were found. ")
        head_logprob = F.log_softmax(self.head(input), dim=1)
        output = output + head_logprob.gather(1, gather_inds.unsqueeze(1)).squeeze(1)
        loss = (-output).mean()
        return _ASMoutput(output if batched else output.squeeze(0), loss)

    def _get_full_log_prob(self, input, head_output):
        """Log-probabilities of every class from the input and the head's output."""
        head_logprob = F.log_softmax(head_output, dim=1)
        pieces = [head_logprob[:, :self.shortlist_size]]
        for i, projection in enumerate(self.tail):
            cluster_logprob = F.log_softmax(projection(input), dim=1)
            pieces.append(cluster_logprob
                          + head_logprob[:, self.shortlist_size + i].unsqueeze(1))
        return ember.cat(pieces, dim=1)

    def log_prob(self, input):
        """Log-probabilities of every class: ``(N, n_classes)`` for an
        ``(N, in_features)`` input."""
        return self._get_full_log_prob(input, self.head(input))

    def predict(self, input):
        """The most likely class of each row of ``input`` (``(N,)``); rows whose head
        output is a shortlist class skip the tail."""
        head_output = self.head(input)
        output = ember.argmax(head_output, dim=1)
        not_in_shortlist = output >= self.shortlist_size
        if not not_in_shortlist.any():
            return output
        if not_in_shortlist.all():
            return ember.argmax(self._get_full_log_prob(input, head_output), dim=1)
        log_prob = self._get_full_log_prob(input[not_in_shortlist],
                                           head_output[not_in_shortlist])
        output[not_in_shortlist] = ember.argmax(log_prob, dim=1)
        return output
