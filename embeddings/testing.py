"""Conformance kit: the checks every adapter must pass.

Run it on your own adapter (a plugin author does exactly what the test suite does)::

    from embeddings.testing import check_embedder
    check_embedder(MyEmbedder(...))

or one pytest test per check::

    @pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
    def test_conformance(check):
        check(my_embedder)

Each check raises ``AssertionError`` with a message that names the adapter and the rule.

Examples
--------
>>> from embeddings.random_vectors import RandomEmbedder
>>> check_embedder(RandomEmbedder(dim=4, n_layers=2, oov_words=["zzz"]))
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

import numpy as np

from embeddings.base import DIRECTIONS, FAMILIES, Embedder, WordVectors

SENTENCES: list[list[str]] = [
    ["The", "river", "bank", "was", "muddy", "."],
    ["She", "deposited", "the", "cheque", "at", "the", "bank", "yesterday", "."],
    ["bank"],
    ["Unbelievably", ",", "the", "antidisestablishmentarianism", "debate", "continued", "!"],
    ["naïve", "café", "—", "déjà", "vu", "123", "3.14", "e-mail", "O'Neill"],
]

ATOL = 1e-5
#: float32 rounding grows with the magnitudes in a computation: SmolLM2 (activations up to
#: 2.5e4, 30 blocks) differs between batch shapes by up to ~1.4e-5 of a layer's largest value.
#: Equality checks allow ATOL or REL_SCALE times the layer's largest value; a real batching
#: bug (padding that leaks, rows that mix) moves vectors by a sizeable fraction of the scale.
REL_SCALE = 1e-5


def close(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal up to float32 rounding, per layer relative to that layer's largest magnitude."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return False
    if a.size == 0:
        return True
    scale = np.abs(a).max(axis=tuple(i for i in range(a.ndim) if i != a.ndim - 2), keepdims=True) \
        if a.ndim >= 2 else np.abs(a).max()
    tol = np.maximum(ATOL, REL_SCALE * scale)
    return bool((np.abs(a - b) <= tol + 1e-5 * np.abs(b)).all())


def _fail(emb: Embedder, rule: str) -> AssertionError:
    return AssertionError(f"[{emb.name}] {rule}")


def check_attributes(emb: Embedder) -> None:
    """family, direction, layers, layer_dims, dim are declared and consistent."""
    if emb.family not in FAMILIES:
        raise _fail(emb, f"family {emb.family!r} not in {FAMILIES}")
    if emb.direction not in DIRECTIONS:
        raise _fail(emb, f"direction {emb.direction!r} not in {DIRECTIONS}")
    if (emb.direction == "none") == bool(emb.contextual):
        raise _fail(emb, f"contextual={emb.contextual} contradicts direction={emb.direction!r}")
    if not emb.layers or len(emb.layers) != len(emb.layer_dims):
        raise _fail(emb, f"{len(emb.layers)} layer names but {len(emb.layer_dims)} layer_dims")
    if len(set(emb.layers)) != len(emb.layers) or "mean" in emb.layers:
        raise _fail(emb, f"layer names must be unique and not 'mean': {emb.layers}")
    if emb.dim != max(emb.layer_dims) or min(emb.layer_dims) < 1:
        raise _fail(emb, f"dim {emb.dim} must be max(layer_dims) {emb.layer_dims}")
    if not emb.contextual and emb.layers[0] != "emb":
        raise _fail(emb, f"static models name their layer 'emb', got {emb.layers}")


def check_shapes_and_alignment(emb: Embedder) -> None:
    """One row per input word, every layer, float32, finite, zero-padded beyond a layer's width."""
    out = emb.embed(SENTENCES)
    if len(out) != len(SENTENCES):
        raise _fail(emb, f"{len(SENTENCES)} sentences in, {len(out)} results out")
    for words, wv in zip(SENTENCES, out):
        if not isinstance(wv, WordVectors):
            raise _fail(emb, f"embed must return WordVectors, got {type(wv).__name__}")
        if wv.vectors.shape != (len(words), len(emb.layers), emb.dim):
            raise _fail(emb, f"shape {wv.vectors.shape} for {len(words)} words, expected "
                             f"{(len(words), len(emb.layers), emb.dim)}")
        if wv.vectors.dtype != np.float32 or not np.isfinite(wv.vectors).all():
            raise _fail(emb, "vectors must be finite float32")
        if wv.oov.shape != (len(words),) or wv.oov.dtype != np.bool_:
            raise _fail(emb, f"oov must be bool ({len(words)},)")
        if list(wv.layers) != list(emb.layers):
            raise _fail(emb, f"layers {wv.layers} != embedder.layers {emb.layers}")
        for k, width in enumerate(emb.layer_dims):
            if width < emb.dim and np.abs(wv.vectors[:, k, width:]).max() != 0:
                raise _fail(emb, f"layer {emb.layers[k]} is {width} wide but has non-zeros beyond it")


def check_empty_inputs(emb: Embedder) -> None:
    """embed([]) is []; an empty sentence gives (0, n_layers, dim) and does not disturb others."""
    if emb.embed([]) != []:
        raise _fail(emb, "embed([]) must return []")
    out = emb.embed([[], ["bank"], []])
    if out[0].vectors.shape != (0, len(emb.layers), emb.dim) or out[2].oov.shape != (0,):
        raise _fail(emb, f"empty sentence gave {out[0].vectors.shape}")
    alone = emb.embed([["bank"]])[0].vectors
    if not close(out[1].vectors, alone):
        raise _fail(emb, "an empty sentence in the batch changed another sentence's vectors")


def check_one_word_and_long_sentences(emb: Embedder, long_length: int = 600) -> None:
    """One-word sentences and a very long sentence (beyond 512 positions) work."""
    one = emb.embed([["word"]])[0]
    if one.vectors.shape[0] != 1:
        raise _fail(emb, "one-word sentence must give one row")
    base = "the cat sat on the mat and then it went to the bank of the river".split()
    long = (base * (long_length // len(base) + 1))[:long_length]
    wv = emb.embed([long])[0]
    if wv.vectors.shape != (long_length, len(emb.layers), emb.dim) or not np.isfinite(wv.vectors).all():
        raise _fail(emb, f"a {long_length}-word sentence gave {wv.vectors.shape}")


def check_determinism_and_batch_order(emb: Embedder) -> None:
    """Same input, same output; a sentence's vectors do not depend on its batch companions."""
    a = emb.embed(SENTENCES)
    b = emb.embed(list(reversed(SENTENCES)))[::-1]
    singles = [emb.embed([s])[0] for s in SENTENCES]
    again = emb.embed(SENTENCES)
    for i, s in enumerate(SENTENCES):
        if not np.array_equal(a[i].vectors, again[i].vectors):
            raise _fail(emb, f"two identical calls differ on sentence {i} ({' '.join(s)[:40]!r})")
        for other, how in ((b[i], "reversed batch order"), (singles[i], "embedding alone")):
            if not close(a[i].vectors, other.vectors):
                diff = float(np.abs(a[i].vectors - other.vectors).max())
                raise _fail(emb, f"sentence {i} differs by {diff:.2e} under {how}")
            if not np.array_equal(a[i].oov, other.oov):
                raise _fail(emb, f"sentence {i}: OOV mask differs under {how}")


def check_oov_policy(emb: Embedder) -> None:
    """OOV rows of static models are all zeros; OOV vectors are never NaN."""
    out = emb.embed(SENTENCES + [["qzxjvwkq", "xxqqzzyy"]])
    for wv in out:
        if not np.isfinite(wv.vectors).all():
            raise _fail(emb, "OOV words produced non-finite vectors")
        if not emb.contextual and wv.oov.any() and np.abs(wv.vectors[wv.oov]).max() != 0:
            raise _fail(emb, "a static model's OOV words must have all-zero vectors")
        if not emb.contextual and (~wv.oov).any():
            norms = np.abs(wv.vectors[~wv.oov]).max(axis=(1, 2))
            if (norms == 0).any():
                raise _fail(emb, "in-vocabulary words must not be all zeros (or mark them oov)")


def check_layer_selection(emb: Embedder) -> None:
    """Names, indices (negative too) and 'mean' select the right slices."""
    full = emb.embed([SENTENCES[0]])[0].vectors
    last = emb.embed([SENTENCES[0]], layers=[-1])[0]
    if last.layers != [emb.layers[-1]] or not np.allclose(last.vectors[:, 0], full[:, -1], atol=ATOL):
        raise _fail(emb, "layers=[-1] must give the last layer")
    named = emb.embed([SENTENCES[0]], layers=emb.layers[0])[0]
    if not np.allclose(named.vectors[:, 0], full[:, 0], atol=ATOL):
        raise _fail(emb, f"layers={emb.layers[0]!r} must give the first layer")
    mean = emb.embed([SENTENCES[0]], layers="mean")[0]
    if mean.layers != ["mean"] or not np.allclose(mean.vectors[:, 0], full.mean(axis=1), atol=ATOL):
        raise _fail(emb, "layers='mean' must be the equal-weight mean of all layers")
    try:
        emb.embed([["x"]], layers=["no-such-layer"])
    except ValueError:
        pass
    else:
        raise _fail(emb, "an unknown layer name must raise ValueError")


def check_context_behaviour(emb: Embedder) -> None:
    """`contextual` and `direction` match behaviour: same word, different contexts."""
    a = emb.embed([["I", "sat", "by", "the", "bank", "of", "the", "river"]])[0].vectors
    b = emb.embed([["I", "paid", "money", "into", "the", "bank", "account", "today"]])[0].vectors
    same = np.allclose(a[4], b[5], atol=ATOL)
    if not emb.contextual and not same:
        raise _fail(emb, "static model: 'bank' must get the same vector in every context")
    if emb.contextual and same:
        raise _fail(emb, "contextual model: 'bank' got identical vectors in two different contexts")
    if emb.direction in ("left", "bi"):
        prefix = ["The", "old", "bank"]
        x = emb.embed([prefix + ["collapsed", "into", "the", "river"]])[0].vectors[:3]
        y = emb.embed([prefix + ["raised", "its", "interest", "rates"]])[0].vectors[:3]
        changed = not np.allclose(x, y, atol=1e-5)
        if emb.direction == "left" and changed:
            raise _fail(emb, "direction 'left': words after position i changed vectors at <= i")
        if emb.direction == "bi" and not changed:
            raise _fail(emb, "direction 'bi': changing the right context changed nothing")


def check_fingerprint(emb: Embedder) -> None:
    """fingerprint() is a stable hex string; config() is a JSON-able dict with a name."""
    fp = emb.fingerprint()
    if not isinstance(fp, str) or not re.fullmatch(r"[0-9a-f]{8,64}", fp) or fp != emb.fingerprint():
        raise _fail(emb, f"fingerprint must be a stable hex string, got {fp!r}")
    cfg = emb.config()
    if not isinstance(cfg, dict) or "name" not in cfg:
        raise _fail(emb, "config() must be a dict with a 'name'")
    emb.embed(SENTENCES[:2])
    if emb.fingerprint() != fp:
        raise _fail(emb, "fingerprint changed after embedding (it must not depend on runtime state)")


def check_config_round_trip(emb: Embedder) -> None:
    """``embeddings.load(**emb.config())`` rebuilds an embedder with the same fingerprint and vectors.

    This is what lets a result be reproduced from its record: the config names the registry
    entry and every option that changes the model.
    """
    import embeddings

    cfg = dict(emb.config())
    name = cfg.pop("name")
    if name not in embeddings.registry:
        raise _fail(emb, f"config() names {name!r}, which is not registered: register the adapter "
                         "(or its loader) so that load(**config()) can rebuild it")
    try:
        again = embeddings.load(name, **cfg)
    except Exception as e:
        raise _fail(emb, f"load(**config()) failed: {type(e).__name__}: {e}") from e
    if again.fingerprint() != emb.fingerprint():
        raise _fail(emb, f"load(**config()) gave fingerprint {again.fingerprint()}, expected {emb.fingerprint()}")
    a, b = emb.embed(SENTENCES[:2]), again.embed(SENTENCES[:2])
    for x, y in zip(a, b, strict=True):
        if not close(x.vectors, y.vectors):
            raise _fail(emb, "load(**config()) rebuilt a model with different vectors")


def check_input_validation(emb: Embedder) -> None:
    """A bare string instead of a list of words is refused with a clear TypeError."""
    for bad in ("the river bank", ["the river bank"]):
        try:
            emb.embed(bad)
        except TypeError:
            continue
        raise _fail(emb, f"embed({bad!r}) must raise TypeError (pass lists of words)")


CHECKS: list[Callable[[Embedder], None]] = [
    check_attributes,
    check_shapes_and_alignment,
    check_empty_inputs,
    check_one_word_and_long_sentences,
    check_determinism_and_batch_order,
    check_oov_policy,
    check_layer_selection,
    check_context_behaviour,
    check_fingerprint,
    check_config_round_trip,
    check_input_validation,
]


def check_embedder(emb: Embedder, *, skip: Iterable[str] = ()) -> None:
    """Run every check in :data:`CHECKS` (minus ``skip``, by function name) on ``emb``."""
    skipped = set(skip)
    unknown = skipped - {c.__name__ for c in CHECKS}
    if unknown:
        raise ValueError(f"unknown checks to skip: {sorted(unknown)}")
    for check in CHECKS:
        if check.__name__ not in skipped:
            check(emb)
