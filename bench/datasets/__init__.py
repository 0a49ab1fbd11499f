"""Datasets: the registry (metadata, checksums, fetch) and one parser module per format."""

from bench.datasets.registry import (
    ChecksumMismatch,
    DataFile,
    Dataset,
    DataUnavailable,
    dataset_names,
    fetch,
    get_dataset,
    register_dataset,
)

__all__ = ["ChecksumMismatch", "DataFile", "DataUnavailable", "Dataset", "dataset_names", "fetch",
           "get_dataset", "register_dataset"]
