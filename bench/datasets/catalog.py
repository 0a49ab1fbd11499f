"""Imports every module that registers datasets (one module per kind of data)."""

from bench.datasets import analogy, classification, coarsewsd, corpora, scws, similarity, wic  # noqa: F401
