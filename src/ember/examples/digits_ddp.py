"""Train the digits CNN data-parallel on several processes with DistributedDataParallel.

Run it with an MPI launcher (``pip install 'ember[dist,examples]'``)::

    mpiexec -n 2 python -m mpi4py -m ember.examples.digits_ddp

Each rank trains on its shard of every epoch (``DistributedSampler``) with a batch of
``--batch-size / world size`` samples; DDP averages the gradients, so the ranks keep
identical weights and together take the steps of single-process training with the full
batch.  Rank 0 evaluates, reports and saves the checkpoint (the model's own state dict,
without DDP's ``module.`` prefix, so ``ember.examples.digits.build_model`` loads it).
"""
import argparse
import time

import ember
import ember.distributed as dist
from ember import nn
from ember.examples.digits import build_model, evaluate, load_data
from ember.nn.parallel import DistributedDataParallel
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset


def main(argv=None):
    parser = argparse.ArgumentParser(prog="mpiexec -n 2 python -m mpi4py -m "
                                     "ember.examples.digits_ddp",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--batch-size", type=int, default=64,
                        help="global batch, split evenly over the ranks")
    parser.add_argument("--lr", type=float, default=2e-3, help="Adam's learning rate")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--checkpoint", default="digits_ddp.safetensors")
    args = parser.parse_args(argv)

    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    if args.batch_size % world:
        raise ValueError(f"--batch-size {args.batch_size} is not divisible by the "
                         f"{world} ranks")
    ember.manual_seed(args.seed)
    x_train, y_train, x_test, y_test = load_data(seed=args.seed)
    dataset = TensorDataset(x_train, y_train)
    sampler = DistributedSampler(dataset, seed=args.seed)
    loader = DataLoader(dataset, batch_size=args.batch_size // world, sampler=sampler)
    model = DistributedDataParallel(build_model())     # rank 0's weights everywhere
    optimizer = ember.optim.Adam(model.parameters(), lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    if rank == 0:
        print(f"digits_ddp: {world} ranks, {len(sampler)} training images each, "
              f"batch {args.batch_size // world} per rank", flush=True)

    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        sampler.set_epoch(epoch)
        model.train()
        total = ember.zeros(2, dtype=ember.float64)     # loss sum, samples
        for x, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            optimizer.step()
            total += ember.tensor([loss.item() * len(y), len(y)], dtype=ember.float64)
        dist.all_reduce(total)
        if rank == 0:
            test_loss, test_accuracy, _ = evaluate(model.module, x_test, y_test)
            print(f"epoch {epoch:2d}/{args.epochs}  train loss "
                  f"{(total[0] / total[1]).item():.4f}  |  test loss {test_loss:.4f}  "
                  f"acc {test_accuracy:6.2%}", flush=True)
    elapsed = time.perf_counter() - start
    result = {"seconds": elapsed, "world_size": world}
    if rank == 0:
        _, accuracy, _ = evaluate(model.module, x_test, y_test)
        ember.save(model.module.state_dict(), args.checkpoint)
        print(f"trained in {elapsed:.1f} s on {world} ranks: test accuracy {accuracy:.2%}; "
              f"saved {args.checkpoint}")
        result["test_accuracy"] = accuracy
    dist.destroy_process_group()
    return result


if __name__ == "__main__":
    main()
