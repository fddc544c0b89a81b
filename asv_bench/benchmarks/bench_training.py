"""One training step (forward, cross-entropy, backward, optimizer step) of small models."""
import ember
from ember import nn


class _TrainingStep:
    """Base: ``build()`` returns (model, input shape, optimizer factory); 2 threads."""

    def setup(self, *params):
        self._threads = ember.get_num_threads()
        ember.set_num_threads(2)
        ember.manual_seed(0)
        self.model, shape, make_optimizer = self.build(*params)
        self.x = ember.randn(*shape)
        self.y = ember.randint(0, 10, (shape[0],))
        self.optimizer = make_optimizer(self.model.parameters())
        self.loss_fn = nn.CrossEntropyLoss()

    def teardown(self, *params):
        ember.set_num_threads(self._threads)

    def time_step(self, *params):
        self.optimizer.zero_grad()
        self.loss_fn(self.model(self.x), self.y).backward()
        self.optimizer.step()


class MLPStep(_TrainingStep):
    """MLP 784-256-256-10 with SGD (momentum 0.9)."""

    params = [64, 512]
    param_names = ["batch"]

    def build(self, batch):
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
                              nn.Linear(256, 10))
        return model, (batch, 784), lambda p: ember.optim.SGD(p, lr=0.01, momentum=0.9)


class LeNetStep(_TrainingStep):
    """conv 1->32 3x3, conv 32->64 3x3, maxpool 2, linear 128, linear 10; Adam; batch 64."""

    def build(self):
        model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.Conv2d(32, 64, 3), nn.ReLU(),
                              nn.MaxPool2d(2), nn.Flatten(), nn.Linear(9216, 128), nn.ReLU(),
                              nn.Linear(128, 10))
        return model, (64, 1, 28, 28), lambda p: ember.optim.Adam(p, lr=1e-3)


class _SequenceClassifier(nn.Module):
    """TransformerEncoder over a batch-first sequence, mean over positions, linear head."""

    def __init__(self, d_model, nhead, num_layers, dim_feedforward, classes):
        super().__init__()
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.1,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers)
        self.head = nn.Linear(d_model, classes)

    def forward(self, x):
        return self.head(self.encoder(x).mean(1))


class TransformerEncoderStep(_TrainingStep):
    """TransformerEncoder 2 layers, d_model 128, 4 heads, feed-forward 512, dropout 0.1;
    sequence 64, batch 32; Adam."""

    def build(self):
        model = _SequenceClassifier(128, 4, 2, 512, 10)
        return model, (32, 64, 128), lambda p: ember.optim.Adam(p, lr=1e-3)


class _LastStepLSTM(nn.Module):
    """LSTM 32 -> 128 over the sequence, linear 128 -> 10 on the last step's output."""

    def __init__(self):
        super().__init__()
        self.lstm = nn.LSTM(32, 128, batch_first=True)
        self.head = nn.Linear(128, 10)

    def forward(self, x):
        return self.head(self.lstm(x)[0][:, -1])


class LSTMStep(_TrainingStep):
    """LSTM in 32, hidden 128, seq 50, batch 32 (batch first), linear head; Adam."""

    def build(self):
        return _LastStepLSTM(), (32, 50, 32), lambda p: ember.optim.Adam(p, lr=1e-3)
