"""Datasets: the registry (metadata, checksums), verified fetching, one parser module per format."""

from bench.datasets.base import DataFile, Dataset
from bench.datasets.fetching import ChecksumMismatch, DataUnavailable, fetch, fetch_file
from bench.datasets.registry import dataset_names, get_dataset, register_dataset

__all__ = ["ChecksumMismatch", "DataFile", "DataUnavailable", "Dataset", "dataset_names", "fetch", "fetch_file",
           "get_dataset", "register_dataset"]
