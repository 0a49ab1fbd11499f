"""Test session set-up: the read-only data mirror, a private cache, quiet progress bars.

- CTXBENCH_MIRROR defaults to ../shared/data (the verified dataset copies) when unset.
- CTXBENCH_CACHE points at a fresh temporary directory for the whole session, so tests
  never reuse models a developer trained by hand (set CTXBENCH_TEST_CACHE to reuse one).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

if not os.environ.get("CTXBENCH_MIRROR") and (SHARED / "data").is_dir():
    os.environ["CTXBENCH_MIRROR"] = str(SHARED / "data")
os.environ.setdefault("CTXBENCH_FIXTURES", str(SHARED / "fixtures"))
os.environ["CTXBENCH_CACHE"] = os.environ.get("CTXBENCH_TEST_CACHE") or tempfile.mkdtemp(prefix="ctxbench-test-")
os.environ.setdefault("CTXBENCH_PROGRESS", "0")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@pytest.fixture(scope="session")
def mirror() -> Path:
    path = os.environ.get("CTXBENCH_MIRROR")
    if not path or not Path(path).is_dir():
        pytest.fail("the dataset mirror is missing: set CTXBENCH_MIRROR to shared/data")
    return Path(path)


@pytest.fixture(scope="session")
def fixtures_dir() -> Path:
    return Path(os.environ["CTXBENCH_FIXTURES"])


@pytest.fixture(scope="session")
def glove():
    import embeddings

    return embeddings.load("glove-6b-50d")
