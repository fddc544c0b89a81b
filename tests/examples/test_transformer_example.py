"""The Transformer example learns to reverse digit sequences at a reduced size."""
import pytest

import ember
from ember.examples import transformer


@pytest.fixture
def one_thread():
    # a tiny model: threads only add synchronisation on a shared test machine
    saved = ember.get_num_threads()
    ember.set_num_threads(1)
    yield
    ember.set_num_threads(saved)


def test_reverser_learns(one_thread, capsys):
    history = transformer.main(["--epochs", "4", "--train-size", "1024", "--test-size", "256",
                                "--seq-len", "5", "--d-model", "32", "--dim-feedforward", "64"])
    assert len(history) == 4
    assert history[-1]["loss"] < 0.5 * history[0]["loss"]
    assert history[-1]["digit_accuracy"] > history[0]["digit_accuracy"] + 0.3
    assert history[-1]["sequence_accuracy"] > 0.5
    printed = capsys.readouterr().out
    assert printed.count("sequence accuracy") == 4


def test_help_lists_options(capsys):
    with pytest.raises(SystemExit):
        transformer.main(["--help"])
    assert "--seq-len" in capsys.readouterr().out
