"""Runnable examples of training with ember, each a module run with ``python -m``:

``python -m ember.examples.digits``
    A small CNN on scikit-learn's bundled 8x8 digits (the main job).
``python -m ember.examples.mlp_regression``
    An MLP fits Friedman's nonlinear regression function (synthetic data).
``python -m ember.examples.char_lstm``
    A character-level LSTM language model on a Shakespeare excerpt shipped with ember.
``python -m ember.examples.transformer``
    A Transformer encoder learns to reverse sequences of digits.
``python -m ember.examples.vae``
    A variational autoencoder of the 8x8 digits.

Each example takes ``--help``; the tests run every example at a reduced size.
"""
