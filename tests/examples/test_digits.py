"""The main job: ``python -m ember.examples.digits`` trains a CNN on the 8x8 digits,
reaches 97% test accuracy, saves, reloads and plots; and the same CNN written in
PyTorch, trained from the same initial weights on the same batches, scores the same."""
import re
import subprocess
import sys

import numpy as np
import sklearn  # noqa: F401  (the examples extra, part of the test extra)
import torch

import ember
from ember.examples import digits


def test_main_job_as_a_user_runs_it(tmp_path):
    """The full-size run, as the README's command runs it (here with the plot too)."""
    result = subprocess.run([sys.executable, "-m", "ember.examples.digits", "--plot"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert len(re.findall(r"^epoch +\d+/20 +train loss", out, re.M)) == 20
    accuracy = float(re.search(r"trained in [\d.]+ s: test accuracy ([\d.]+)%", out).group(1))
    assert accuracy >= 97.0, out
    assert f"reloaded model: test accuracy {accuracy:.2f}% (same predictions)" in out
    assert (tmp_path / "digits_cnn.safetensors").stat().st_size > 0
    assert (tmp_path / "digits_training.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_checkpoint_holds_model_and_optimizer_state(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    result = digits.main(["--epochs", "1", "--workers", "0", "--no-progress",
                          "--checkpoint", str(path)])
    assert result["same_predictions"]
    checkpoint = ember.load(path)
    assert checkpoint["epochs"] == 1
    assert set(checkpoint["model"]) == set(digits.build_model().state_dict())
    state = checkpoint["optimizer"]["state"]
    assert sorted(state) == list(range(len(list(digits.build_model().parameters()))))
    assert float(state[0]["step"]) == 23  # ceil(1437 / 64) Adam steps


def _torch_cnn():
    nn = torch.nn
    return nn.Sequential(
        nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.25), nn.Flatten(), nn.Linear(1024, 128), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(128, 10))


EPOCHS = 20


def _train(lib, model, data, order, lr=2e-3):
    """The example's recipe (Adam, cosine schedule) over the given batch order; returns
    the test accuracy."""
    x_train, y_train, x_test, y_test = (lib.from_numpy(a) for a in data)
    optimizer = lib.optim.Adam(model.parameters(), lr=lr)
    scheduler = lib.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)
    loss_fn = lib.nn.CrossEntropyLoss()
    for epoch in range(EPOCHS):
        model.train()
        for batch in np.array_split(order[epoch], len(order[epoch]) // 64):
            index = lib.from_numpy(batch)
            optimizer.zero_grad()
            loss_fn(model(x_train[index]), y_train[index]).backward()
            optimizer.step()
        scheduler.step()
    model.eval()
    with lib.no_grad():
        return (model(x_test).argmax(1) == y_test).float().mean().item()


def test_same_accuracy_as_the_same_cnn_in_pytorch():
    data = tuple(t.numpy() for t in digits.load_data())
    rng = np.random.default_rng(0)
    order = [rng.permutation(len(data[0])) for _ in range(EPOCHS)]
    torch.manual_seed(0)
    ember.manual_seed(0)
    torch_model = _torch_cnn()
    ember_model = digits.build_model()
    ember_model.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                                 for k, v in torch_model.state_dict().items()})
    ember_accuracy = _train(ember, ember_model, data, order)
    torch_accuracy = _train(torch, torch_model, data, order)
    assert ember_accuracy >= 0.96 and torch_accuracy >= 0.96
    assert abs(ember_accuracy - torch_accuracy) <= 0.01, (ember_accuracy, torch_accuracy)
