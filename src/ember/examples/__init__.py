"""Runnable examples of training with ember, each a module run with ``python -m``:

``python -m ember.examples.digits``
    A small CNN on scikit-learn's bundled 8x8 digits (the main job).
``python -m ember.examples.transformer``
    A Transformer encoder learns to reverse sequences of digits.

Each example takes ``--help``; the tests run every example at a reduced size.
"""
