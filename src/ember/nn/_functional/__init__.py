"""Implementation modules of :mod:`ember.nn.functional`."""
