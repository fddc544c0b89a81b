"""The MLP-regression and VAE examples train at a reduced size and learn."""
import pytest

import ember
from ember.examples import mlp_regression, vae


@pytest.fixture
def one_thread():
    # tiny models: threads only add synchronisation on a shared test machine
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    yield
    ember.set_num_threads(saved)


def test_mlp_regression_fits_friedman1(one_thread, capsys):
    history = mlp_regression.main(["--epochs", "8", "--train-size", "1500", "--test-size", "500"])
    assert len(history) == 8
    assert history[-1]["test_rmse"] < 0.6 * history[0]["test_rmse"]
    assert history[-1]["test_r2"] > 0.85  # the target's std is ~5, the noise's 1
    assert capsys.readouterr().out.count("test R^2") == 8


def test_vae_elbo_improves_and_plots(one_thread, tmp_path, capsys):
    png = tmp_path / "vae.png"
    history = vae.main(["--epochs", "10", "--plot", str(png)])
    assert len(history) == 10
    assert history[-1]["test"] < history[0]["test"] - 3  # nats per image
    assert history[-1]["test_kl"] > 1.0  # the latent is used, not collapsed to the prior
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert f"wrote {png}" in capsys.readouterr().out


def test_negative_elbo_terms_match_closed_forms():
    x = ember.tensor([[0.0, 1.0, 0.5]])
    logits = ember.zeros(1, 3)
    mu, log_var = ember.tensor([[1.0, 0.0]]), ember.tensor([[0.0, 1.0]])
    reconstruction, kl = vae.negative_elbo(logits, x, mu, log_var)
    assert abs(reconstruction.item() - 3 * 0.6931471805599453) < 1e-6  # log 2 per pixel
    expected_kl = 0.5 * (1.0 + (2.718281828459045 - 1 - 1.0))  # mu=1 term + var=e term
    assert abs(kl.item() - expected_kl) < 1e-6
