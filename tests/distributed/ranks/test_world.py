"""The world, groups and argument checks, on 2 ranks."""
import pytest

import ember
import ember.distributed as dist


def test_world_size_is_two():
    # a launcher/library mismatch makes every rank a singleton of size 1
    assert dist.get_world_size() == 2
    assert dist.get_rank() in (0, 1)
    assert dist.is_initialized()
    assert dist.get_backend() == "mpi"


def test_init_twice_raises():
    with pytest.raises(ValueError, match="twice"):
        dist.init_process_group("mpi")


def test_new_group_of_one_rank():
    group = dist.new_group([1])
    if dist.get_rank() == 1:
        assert dist.get_rank(group) == 0 and dist.get_world_size(group) == 1
        t = ember.ones(3)
        dist.all_reduce(t, group=group)
        assert t.tolist() == [1.0, 1.0, 1.0]
        dist.destroy_process_group(group)
    else:
        assert group is dist.GroupMember.NON_GROUP_MEMBER
        assert dist.get_rank(group) == -1
        assert dist.all_reduce(ember.ones(3), group=group) is None


def test_group_uses_global_ranks_for_src():
    group = dist.new_group([0, 1])
    t = ember.full((2,), float(dist.get_rank()))
    dist.broadcast(t, src=1, group=group)
    assert t.tolist() == [1.0, 1.0]


def test_argument_errors():
    with pytest.raises(TypeError, match="ember.Tensor"):
        dist.all_reduce([1.0, 2.0])
    with pytest.raises(ValueError, match="src=5"):
        dist.broadcast(ember.ones(1), src=5)
    with pytest.raises(TypeError, match="ReduceOp"):
        dist.all_reduce(ember.ones(1), op="sum")
    with pytest.raises(RuntimeError, match="complex"):
        dist.all_reduce(ember.ones(1, dtype=ember.complex64), op=dist.ReduceOp.MAX)
    with pytest.raises(RuntimeError, match="bool"):
        dist.all_reduce(ember.ones(1, dtype=ember.bool), op=dist.ReduceOp.AVG)
    with pytest.raises(ValueError, match="world_size"):
        dist.all_gather([ember.ones(1)], ember.ones(1))
    with pytest.raises(RuntimeError, match="elements"):
        dist.all_gather_into_tensor(ember.ones(3), ember.ones(1))
    with pytest.raises(ValueError, match="Invalid backend"):
        dist.Backend("gloo")
