"""The character-level LSTM example trains at a reduced size and its loss falls."""
import math

from ember.examples import char_lstm


def test_char_lstm_loss_decreases(capsys):
    losses = char_lstm.main(["--epochs", "3", "--steps", "12", "--hidden", "32",
                             "--seq-len", "24", "--batch", "16", "--sample", "30"])
    printed = capsys.readouterr().out
    assert printed.count("loss") == 3
    assert "First Citizen:" in printed
    vocab = len(set(char_lstm.DATA.read_text(encoding="utf-8")))
    assert losses[0] < math.log(vocab) + 0.5
    assert losses[-1] < losses[0] - 0.3


def test_data_is_installed_beside_the_example():
    text = char_lstm.DATA.read_text(encoding="utf-8")
    assert text.startswith("First Citizen:")
