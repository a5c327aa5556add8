"""The package version, in a module of its own so ``gancourse --version`` needs no TensorFlow."""

__version__ = "0.2.0"
