"""Reading and writing AWD-LSTM checkpoints: fastai's published layout and ctxbench's own.

fastai layout (a directory; file names vary, so the files are found by extension)
    - one ``.pth``: a torch state dict, possibly wrapped as ``{'model': sd, 'opt': ...}``,
      read with ``torch.load(weights_only=True)``. Keys of ``get_language_model(AWD_LSTM)``::

          0.encoder.weight                (vocab, emb_sz)
          0.encoder_dp.emb.weight         (vocab, emb_sz)   same tensor (tied)
          0.rnns.{i}.weight_hh_l0_raw     (4*h_i, h_i)      hidden-to-hidden, as used
          0.rnns.{i}.module.weight_ih_l0  (4*h_i, in_i)
          0.rnns.{i}.module.bias_ih_l0    (4*h_i,)
          0.rnns.{i}.module.bias_hh_l0    (4*h_i,)
          1.decoder.weight                (vocab, emb_sz)   tied to the encoder
          1.decoder.bias                  (vocab,)

      Older files also carry ``0.rnns.{i}.module.weight_hh_l0`` (a dropped copy; fastai's
      ``clean_raw_keys`` discards it, and so do we). An encoder saved alone
      (``learn.save_encoder``) has the same keys without the ``0.`` prefix and no decoder.
      Sizes come from the shapes (``emb_sz`` from the embedding, ``n_hid`` from layer 1,
      the number of layers from the keys).
    - one ``.pkl``: the vocabulary, a pickled list of str, read by
      :func:`~embeddings.ulmfit.vocab.read_itos_pickle` (restricted unpickler).

ctxbench layout (written by :func:`save_checkpoint`)
    ``config.json`` (``{"format": "ctxbench-awd-lstm", "version": 1, "model": {...},
    "meta": {...}}``), ``model.safetensors`` (the :class:`AWDLSTM` state dict, the tied
    decoder weight stored once) and ``vocab.json`` (a JSON list of str).
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from embeddings.support.errors import CtxbenchError
from embeddings.support.files import atomic_path
from embeddings.support.jsonfile import read_json
from embeddings.ulmfit.model import AWDLSTM, AWDConfig
from embeddings.ulmfit.vocab import Vocab, read_itos_pickle, read_vocab_json, write_vocab_json

logger = logging.getLogger(__name__)

FORMAT = "ctxbench-awd-lstm"
FORMAT_VERSION = 1


class CheckpointError(CtxbenchError, ValueError):
    """A directory is not a readable AWD-LSTM checkpoint; the message says why."""


@dataclass
class LoadedLM:
    """A language model with its vocabulary and where it came from."""

    model: AWDLSTM
    vocab: Vocab
    layout: str  # "fastai" or "ctxbench"
    files: list[Path]
    meta: dict[str, Any] = field(default_factory=dict)

    def weights_sha256(self) -> str:
        """sha256 over the weight and vocabulary files (names excluded), for fingerprints."""
        h = hashlib.sha256()
        for f in self.files:
            with open(f, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    h.update(chunk)
        return h.hexdigest()


def detect_layout(path: str | Path) -> str:
    """``"ctxbench"`` when the directory has our config.json, ``"fastai"`` when it has a .pth."""
    path = Path(path)
    if not path.is_dir():
        raise CheckpointError(f"{path} is not a directory; pass path= a checkpoint directory")
    cfg = path / "config.json"
    if cfg.is_file():
        try:
            if json.loads(cfg.read_text(encoding="utf-8")).get("format") == FORMAT:
                return "ctxbench"
        except (ValueError, AttributeError, RecursionError):  # damaged, or not ours
            pass
    if list(path.glob("*.pth")):
        return "fastai"
    if cfg.is_file():  # a config.json that is damaged or not ours, and no .pth: load_own says what is wrong
        return "ctxbench"
    raise CheckpointError(
        f"{path} holds neither a ctxbench AWD-LSTM (config.json with format {FORMAT!r}) nor a fastai "
        f"checkpoint (a .pth state dict and a .pkl vocabulary); it contains "
        f"{sorted(p.name for p in path.iterdir())[:20]}"
    )


def load_checkpoint(path: str | Path) -> LoadedLM:
    """Load an AWD-LSTM language model from a directory in either layout (see module doc)."""
    layout = detect_layout(path)
    return load_fastai(path) if layout == "fastai" else load_own(path)


def _one_file(path: Path, ext: str, what: str) -> Path:
    found = sorted(path.glob(f"*.{ext}"))
    if len(found) != 1:
        raise CheckpointError(
            f"{path}: expected exactly one .{ext} file ({what}), found {[p.name for p in found]}"
        )
    return found[0]


_RNN_KEY = re.compile(r"rnns\.(\d+)\.")


def fastai_to_own(sd: dict[str, torch.Tensor], *, where: str = "state dict"
                  ) -> tuple[AWDConfig, dict[str, torch.Tensor]]:
    """Map a fastai AWD-LSTM language-model state dict to :class:`AWDLSTM` names and a config."""
    prefix = "0." if "0.encoder.weight" in sd else ""
    if prefix + "encoder.weight" not in sd:
        raise CheckpointError(
            f"{where}: no '0.encoder.weight' (nor 'encoder.weight'): not a fastai AWD-LSTM; "
            f"first keys: {list(sd)[:8]}"
        )
    for key, tensor in sd.items():
        if not tensor.is_floating_point() or tensor.ndim not in (1, 2):
            raise CheckpointError(f"{where}: key {key!r}: a {tensor.dtype} tensor of shape {tuple(tensor.shape)}; "
                                  "an AWD-LSTM holds float matrices and vectors")
    enc = sd[prefix + "encoder.weight"]
    if enc.ndim != 2:
        raise CheckpointError(f"{where}: key {prefix + 'encoder.weight'!r}: shape {tuple(enc.shape)}, "
                              "expected (vocab, emb_sz)")
    vocab_size, emb_sz = enc.shape
    layers = sorted({int(m.group(1)) for k in sd
                     if k.startswith(prefix) and (m := _RNN_KEY.match(k[len(prefix):]))})
    if not layers or layers != list(range(len(layers))):
        raise CheckpointError(f"{where}: LSTM layer keys '{prefix}rnns.<i>.*' missing or not 0..n-1: "
                              f"{layers}")
    own: dict[str, torch.Tensor] = {"encoder.weight": enc}
    used = {prefix + "encoder.weight"}
    sizes = []
    for i in layers:
        base = f"{prefix}rnns.{i}."
        hh_key = base + "weight_hh_l0_raw"
        if hh_key not in sd:  # very old files: only the module copy exists
            hh_key = base + "module.weight_hh_l0"
        names = {"weight_hh_l0": hh_key, "weight_ih_l0": base + "module.weight_ih_l0",
                 "bias_ih_l0": base + "module.bias_ih_l0", "bias_hh_l0": base + "module.bias_hh_l0"}
        missing = [v for v in names.values() if v not in sd]
        if missing:
            raise CheckpointError(f"{where}: layer {i} lacks {missing}")
        hh, ih = sd[names["weight_hh_l0"]], sd[names["weight_ih_l0"]]
        if hh.ndim != 2 or ih.ndim != 2:
            raise CheckpointError(f"{where}: layer {i}: weights of shapes {tuple(hh.shape)} and {tuple(ih.shape)}, "
                                  "expected matrices")
        n_out, n_in = hh.shape[1], ih.shape[1]
        expect = {"weight_hh_l0": (4 * n_out, n_out), "weight_ih_l0": (4 * n_out, n_in),
                  "bias_ih_l0": (4 * n_out,), "bias_hh_l0": (4 * n_out,)}
        for ours, theirs in names.items():
            if tuple(sd[theirs].shape) != expect[ours]:
                raise CheckpointError(f"{where}: {theirs} has shape {tuple(sd[theirs].shape)}, "
                                      f"expected {expect[ours]} for an LSTM {n_in} -> {n_out}")
            own[f"rnns.{i}.{ours}"] = sd[theirs]
            used.add(theirs)
        used.add(base + "module.weight_hh_l0")  # the dropped copy in older files: ignored
        sizes.append((n_in, n_out))
    n_hid = sizes[0][1] if len(sizes) > 1 else emb_sz
    config_kwargs: dict[str, Any] = dict(vocab_size=vocab_size, emb_sz=emb_sz, n_hid=n_hid,
                                         n_layers=len(sizes))
    dp_key = prefix + "encoder_dp.emb.weight"
    if dp_key in sd:
        used.add(dp_key)
        if not torch.equal(sd[dp_key], enc):
            logger.warning("%s: %s differs from the encoder weight; using %sencoder.weight",
                           where, dp_key, prefix)
    dec_w, dec_b = sd.get("1.decoder.weight"), sd.get("1.decoder.bias")
    if prefix and dec_w is not None:
        used.update(k for k in ("1.decoder.weight", "1.decoder.bias") if k in sd)
        if tuple(dec_w.shape) != (vocab_size, emb_sz):
            raise CheckpointError(f"{where}: 1.decoder.weight has shape {tuple(dec_w.shape)}, "
                                  f"expected {(vocab_size, emb_sz)}")
        tied = torch.equal(dec_w, enc)
        config_kwargs.update(tie_weights=tied, out_bias=dec_b is not None)
        if not tied:
            own["decoder.weight"] = dec_w
        if dec_b is not None:
            own["decoder.bias"] = dec_b
    else:  # an encoder alone: a tied decoder with zero bias keeps the module complete
        config_kwargs.update(tie_weights=True, out_bias=True)
        own["decoder.bias"] = torch.zeros(vocab_size, dtype=enc.dtype)
    extra = sorted(set(sd) - used)
    if extra:
        raise CheckpointError(f"{where}: unexpected keys {extra[:10]}; this is not fastai's AWD-LSTM "
                              f"language model (QRNN and bidirectional encoders are not supported)")
    config = AWDConfig(**config_kwargs)
    if config.layer_sizes() != sizes:
        raise CheckpointError(f"{where}: layer sizes {sizes} are not an AWD-LSTM stack "
                              f"(expected {config.layer_sizes()})")
    return config, own


def _build(config: AWDConfig, own: dict[str, torch.Tensor], where: str) -> AWDLSTM:
    model = AWDLSTM(config)
    state = {k: v.detach().to(torch.float32) for k, v in own.items()}
    if config.tie_weights:
        state["decoder.weight"] = state["encoder.weight"]
    expected = model.state_dict()
    for key, tensor in state.items():
        if key in expected and tuple(tensor.shape) != tuple(expected[key].shape):
            raise CheckpointError(f"{where}: key {key!r}: shape {tuple(tensor.shape)}, the configured model "
                                  f"({config.vocab_size} tokens, emb_sz {config.emb_sz}, n_hid {config.n_hid}, "
                                  f"{config.n_layers} layers) has {tuple(expected[key].shape)}: the weights and "
                                  "the configuration do not belong together")
        if not torch.isfinite(tensor).all():
            raise CheckpointError(f"{where}: key {key!r}: NaN or infinite weights")
    try:
        missing, unexpected = model.load_state_dict(state, strict=False)
    except RuntimeError as e:  # a size mismatch between the weights and the sizes the config gives
        raise CheckpointError(f"{where}: the weights do not fit the configured model: "
                              f"{' '.join(str(e).split())[:300]}") from None
    if missing or unexpected:
        raise CheckpointError(f"{where}: missing {missing}, unexpected {unexpected}")
    return model.eval()


def load_fastai(path: str | Path) -> LoadedLM:
    """Load fastai's layout: the one .pth state dict and the one .pkl vocabulary in ``path``."""
    path = Path(path)
    pth = _one_file(path, "pth", "the state dict")
    pkl = _one_file(path, "pkl", "the vocabulary, a pickled list of str")
    try:
        obj = torch.load(pth, map_location="cpu", weights_only=True)
    except Exception as e:  # cut short (zip central directory missing), not a torch file, a refused global
        raise CheckpointError(f"{pth}: not a readable torch checkpoint ({type(e).__name__}: "
                              f"{str(e).splitlines()[0][:200] if str(e) else ''}); a cut-short download? "
                              "fetch it again") from None
    if isinstance(obj, dict) and "model" in obj and isinstance(obj["model"], dict):
        obj = obj["model"]
    if not isinstance(obj, dict) or not all(isinstance(v, torch.Tensor) for v in obj.values()):
        raise CheckpointError(f"{pth}: not a state dict of tensors (got {type(obj).__name__})")
    config, own = fastai_to_own(obj, where=str(pth))
    itos = read_itos_pickle(pkl)
    if len(itos) != config.vocab_size:
        raise CheckpointError(f"{pkl} has {len(itos)} tokens but {pth.name} has {config.vocab_size} "
                              f"embedding rows: they are not from the same model")
    model = _build(config, own, str(pth))
    return LoadedLM(model, Vocab(itos), "fastai", [pth, pkl], {"source": str(path)})


def load_own(path: str | Path) -> LoadedLM:
    """Load the ctxbench layout written by :func:`save_checkpoint`.

    Errors name the file and the key: config.json that is not valid JSON or misses a key or
    has a wrong type, a model.safetensors that is cut short or damaged or does not match the
    config, NaN or infinite weights, a vocab.json that is not a list of str.
    """
    path = Path(path)
    cfg_file = path / "config.json"
    cfg = read_json(cfg_file)
    if not isinstance(cfg, dict):
        raise CheckpointError(f"{cfg_file}:1: expected a JSON object, got {type(cfg).__name__}")
    if cfg.get("format") != FORMAT or cfg.get("version") != FORMAT_VERSION:
        key = "format" if cfg.get("format") != FORMAT else "version"
        raise CheckpointError(f"{cfg_file}: key {key!r}: format {cfg.get('format')!r:.40} version "
                              f"{cfg.get('version')!r:.20}; this reader knows {FORMAT!r} {FORMAT_VERSION}")
    config = _config_from_json(cfg.get("model"), cfg_file)
    meta = cfg.get("meta", {})
    if not isinstance(meta, dict):
        raise CheckpointError(f"{cfg_file}: key 'meta': expected an object, got {type(meta).__name__}")
    weights, vocab_file = path / "model.safetensors", path / "vocab.json"
    try:
        own = load_file(str(weights))
    except FileNotFoundError:
        raise CheckpointError(f"{weights}: missing; a ctxbench AWD-LSTM directory holds config.json, "
                              "model.safetensors and vocab.json") from None
    except Exception as e:  # safetensors' own error type: cut short, bad header, bad offsets
        raise CheckpointError(f"{weights}: not a readable safetensors file ({type(e).__name__}: {e}); "
                              "a cut-short copy? write or fetch it again") from None
    itos = read_vocab_json(vocab_file)
    if len(itos) != config.vocab_size:
        raise CheckpointError(f"{vocab_file} has {len(itos)} tokens, config says {config.vocab_size}")
    model = _build(config, own, str(weights))
    return LoadedLM(model, Vocab(itos), "ctxbench", [weights, vocab_file], dict(meta))


def _config_from_json(d: Any, cfg_file: Path) -> AWDConfig:
    """The ``model`` object of config.json as an :class:`AWDConfig`, every field type-checked."""
    if not isinstance(d, dict):
        raise CheckpointError(f"{cfg_file}: key 'model': expected an object of AWD-LSTM sizes, "
                              f"got {type(d).__name__}")
    known = {f.name: f for f in fields(AWDConfig)}
    for key, value in d.items():
        if key not in known:
            raise CheckpointError(f"{cfg_file}: key 'model.{key[:40]}': unknown; known: {sorted(known)}")
        kind = known[key].type
        if kind in ("int", int):
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= _MAX_SIZE
            want = f"a whole number from 1 to {_MAX_SIZE}"
        elif kind in ("bool", bool):
            ok, want = isinstance(value, bool), "true or false"
        else:  # the dropout probabilities
            ok = isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1
            want = "a probability in [0, 1]"
        if not ok:
            raise CheckpointError(f"{cfg_file}: key 'model.{key}': expected {want}, got {value!r:.40}")
    for key in _REQUIRED:  # the ones that shape the network (the dropouts do not matter for inference)
        if key not in d:
            raise CheckpointError(f"{cfg_file}: key 'model.{key}': missing")
    return AWDConfig.from_dict(d)


_REQUIRED = ("vocab_size", "emb_sz", "n_hid", "n_layers", "tie_weights", "out_bias")


#: the largest size a config may ask for (a damaged file must not allocate terabytes)
_MAX_SIZE = 1 << 24


def save_checkpoint(model: AWDLSTM, itos: list[str], path: str | Path,
                    meta: dict[str, Any] | None = None) -> Path:
    """Write ``model`` and its vocabulary in the ctxbench layout, atomically (a whole directory).

    Returns the directory. ``meta`` (JSON-able: training settings, perplexity ...) goes into
    config.json.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.mkdir(parents=True)
        write_checkpoint_files(model, itos, tmp, meta)
    return path


def write_checkpoint_files(model: AWDLSTM, itos: list[str], folder: str | Path,
                           meta: dict[str, Any] | None = None) -> None:
    """Write model.safetensors, vocab.json and config.json into an existing ``folder``."""
    folder = Path(folder)
    if len(itos) != model.config.vocab_size:
        raise ValueError(f"{len(itos)} tokens for a model with {model.config.vocab_size} rows")
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if model.config.tie_weights:
        state.pop("decoder.weight")
    cfg = {"format": FORMAT, "version": FORMAT_VERSION, "model": model.config.to_dict(), "meta": meta or {}}
    save_file(state, str(folder / "model.safetensors"))
    write_vocab_json(itos, folder / "vocab.json")
    (folder / "config.json").write_text(json.dumps(cfg, indent=2, sort_keys=True), encoding="utf-8")
