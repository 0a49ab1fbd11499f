"""Imports every module that registers datasets (one module per kind of data)."""

from bench.datasets import corpora, similarity  # noqa: F401
