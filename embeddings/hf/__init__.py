"""Hugging Face transformers: encoders (BERT family) and causal decoders (GPT family).

- :mod:`~embeddings.hf.embedder`: the adapter (:class:`HFEmbedder`) and its loaders;
- :mod:`~embeddings.hf.align`: words to sub-word pieces and back (pooling);
- :mod:`~embeddings.hf.windows`: inputs longer than the model takes;
- :mod:`~embeddings.hf.gguf`: GGUF checkpoints dequantised once into the cache;
- :mod:`~embeddings.hf.tokenization`: pieces-per-word statistics;
- :mod:`~embeddings.hf.finetune`: fine-tuning as a sentence classifier.
"""

from embeddings.hf.embedder import (
    CANONICAL,
    MINILM_LABEL,
    SMOLLM2_LABEL,
    HFEmbedder,
    detect_direction,
    load_hf,
    load_minilm_l6,
    load_smollm2_135m,
    max_input_length,
)

__all__ = [
    "CANONICAL",
    "MINILM_LABEL",
    "SMOLLM2_LABEL",
    "HFEmbedder",
    "detect_direction",
    "load_hf",
    "load_minilm_l6",
    "load_smollm2_135m",
    "max_input_length",
]
