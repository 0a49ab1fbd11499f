"""flair's TransformerWordEmbeddings, timed on command: runs in the peer venv, not in ctxbench's.

flair 0.15 pins transformers<5, so it cannot share ctxbench's environment; ``make perf-peer``
builds ``.venv-peer`` for it (bench/perf/requirements-peer.txt). This script imports the
standard library and flair (with the torch flair runs on) and nothing of ctxbench.

    .venv-peer/bin/python bench/perf/peer_flair.py --model DIR --sentences sets.json \
        [--batch-size 16] [--threads 1] [--pooling mean]

``sets.json`` is ``{"warmup": [[word, ...], ...], "sets": [[[word, ...], ...], ...]}``.
After loading the model and embedding the warm-up sentences it prints one JSON line
``{"event": "ready", ...}`` (versions, embedding length, load seconds), then reads commands,
one JSON object per line on stdin, and answers each with one JSON line on stdout:

- ``{"op": "time", "set": 0, "order": "file"}`` embeds set 0 in batches of ``--batch-size``,
  in file order (``"sorted"``: sorted by length first, as ctxbench does), and answers
  ``{"event": "timed", "seconds": ..., "words": ..., "subtokens": ..., "pad_tokens": ...}``;
  the timed region is what a flair user runs: ``Sentence(words)`` per sentence, then
  ``embeddings.embed(batch)`` per batch (every layer, pooled per word, left on the tokens);
- ``{"op": "quit"}`` ends the process.

Any failure is answered with ``{"event": "error", "error": "..."}`` (traceback on stderr)
and a non-zero exit, so the caller can report it in its row.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from importlib import metadata

#: the protocol channel; anything else flair or transformers print goes to stderr
PROTOCOL = sys.stdout


def say(**event: object) -> None:
    PROTOCOL.write(json.dumps(event) + "\n")
    PROTOCOL.flush()


def transformers4_view(model_dir: str) -> tuple[str, list[str]]:
    """A directory transformers 4 can read, for a checkpoint saved by transformers 5.

    transformers 5 writes ``tokenizer_class: TokenizersBackend`` (unknown to 4.x), nests
    ``rope_theta`` under ``rope_parameters`` (4.x would silently fall back to its default
    theta) and keeps a GGUF ``quantization_config`` (4.x refuses it; the weights are plain
    float32 already). The view links every file and rewrites those two JSON files. Returns
    (directory, list of changes); the original directory when nothing needs changing.
    """
    with open(os.path.join(model_dir, "config.json"), encoding="utf-8") as f:
        config = json.load(f)
    tok_path = os.path.join(model_dir, "tokenizer_config.json")
    tok_config: dict[str, object] = {}
    if os.path.isfile(tok_path):
        with open(tok_path, encoding="utf-8") as f:
            tok_config = json.load(f)
    changes = []
    if tok_config.get("tokenizer_class") == "TokenizersBackend":
        tok_config["tokenizer_class"] = "PreTrainedTokenizerFast"
        changes.append("tokenizer_class TokenizersBackend -> PreTrainedTokenizerFast (same tokenizer.json)")
    rope = config.get("rope_parameters")
    if isinstance(rope, dict) and "rope_theta" in rope and "rope_theta" not in config:
        config["rope_theta"] = rope["rope_theta"]
        changes.append(f"rope_theta {rope['rope_theta']} copied out of rope_parameters")
    quant = config.get("quantization_config")
    if isinstance(quant, dict) and quant.get("quant_method") == "gguf":
        del config["quantization_config"]
        changes.append("GGUF quantization_config dropped (the weights are dequantised float32)")
    if not changes:
        return model_dir, []
    view = tempfile.mkdtemp(prefix="ctxbench-peer-view-")
    for name in os.listdir(model_dir):
        if name not in ("config.json", "tokenizer_config.json"):
            os.symlink(os.path.join(os.path.abspath(model_dir), name), os.path.join(view, name))
    with open(os.path.join(view, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f, indent=2)
    if tok_config:
        with open(os.path.join(view, "tokenizer_config.json"), "w", encoding="utf-8") as f:
            json.dump(tok_config, f, indent=2)
    return view, changes


def batches(sentences: list[list[str]], size: int, order: str) -> list[list[list[str]]]:
    if order not in ("file", "sorted"):
        raise ValueError(f"order must be 'file' or 'sorted', got {order!r}")
    seq = sorted(sentences, key=len) if order == "sorted" else list(sentences)
    return [seq[k : k + size] for k in range(0, len(seq), size)]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="flair TransformerWordEmbeddings timed on command (peer venv)")
    p.add_argument("--model", required=True, help="a transformers checkpoint directory")
    p.add_argument("--sentences", required=True, help="JSON file: {warmup: [...], sets: [[...], ...]}")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--pooling", default="mean", help="flair subtoken_pooling: first, last, first_last, mean")
    args = p.parse_args(argv)
    sys.stdout = sys.stderr
    try:
        with open(args.sentences, encoding="utf-8") as f:
            data = json.load(f)
        t0 = time.perf_counter()
        import flair
        import torch
        from flair.data import Sentence
        from flair.embeddings import TransformerWordEmbeddings

        torch.set_num_threads(args.threads)
        flair.device = torch.device("cpu")
        model_dir, changes = transformers4_view(args.model)
        emb = TransformerWordEmbeddings(
            model_dir, layers="all", layer_mean=False, subtoken_pooling=args.pooling, fine_tune=False,
        )  # otherwise flair's defaults (allow_long_sentences=False: SST-2 sentences are far below 512 pieces)
        emb.eval()
        load_seconds = time.perf_counter() - t0

        def run(sentences: list[list[str]], order: str) -> dict[str, float]:
            words = subtokens = pads = 0
            start = time.perf_counter()
            for batch in batches(sentences, args.batch_size, order):
                objs = [Sentence(list(words_)) for words_ in batch]
                emb.embed(objs)
                words += sum(len(s) for s in objs)
            seconds = time.perf_counter() - start
            for batch in batches(sentences, args.batch_size, order):  # outside the timed region
                lengths = [len(emb.tokenizer(list(b), is_split_into_words=True)["input_ids"]) for b in batch]
                subtokens += sum(lengths)
                pads += max(lengths) * len(lengths) - sum(lengths)
            return {"seconds": seconds, "words": words, "subtokens": subtokens, "pad_tokens": pads}

        check = [Sentence(list(s)) for s in data["warmup"][:2]]
        emb.embed(check)
        width = int(check[0][0].get_embedding().shape[-1])
        run(data["warmup"], "file")
        say(event="ready", load_seconds=load_seconds, embedding_length=width, n_layers=len(emb.layer_indexes),
            versions={d: metadata.version(d) for d in ("flair", "torch", "transformers", "tokenizers")},
            torch_threads=torch.get_num_threads(), compat_changes=changes)
        if model_dir != args.model:
            shutil.rmtree(model_dir, ignore_errors=True)  # the model is in memory; the view held links only
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd.get("op") == "quit":
                return 0
            if cmd.get("op") != "time":
                raise ValueError(f"unknown command {cmd!r}; expected op 'time' or 'quit'")
            out = run(data["sets"][int(cmd["set"])], cmd.get("order", "file"))
            say(event="timed", set=int(cmd["set"]), order=cmd.get("order", "file"), **out)
        return 0
    except Exception as e:  # report, then fail: the caller turns this into a failed row
        traceback.print_exc()
        say(event="error", error=f"{type(e).__name__}: {e}")
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
