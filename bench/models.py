"""What each model is in a comparison: its side (static, contextual, floor) and its label.

- **Side.** A model that gives a word one vector whatever its context is STATIC; so is a
  representation built only from such vectors even though it depends on the sentence (a bag
  of context, ``bow:<name>``, declares ``static_source``): the fair static baseline on the
  context tasks. Every other model is CONTEXTUAL. A FLOOR (random vectors, or anything built
  on them) is shown in every table but never chosen to represent a side.
- **Label.** Every row says what the checkpoint is, so no one mistakes a stand-in for the
  published model of its family: ``elmo-brown`` is "stand-in: ELMo biLM trained by ctxbench
  on Brown", ``minilm-l6`` is "stand-in for BERT: all-MiniLM-L6-v2", and so on (the registry
  entry's ``label``).

Examples
--------
>>> side({"contextual": False, "family": "glove"}), side({"contextual": True, "static_source": True})
('static', 'static')
>>> side({"contextual": True, "family": "bert"}), side({"contextual": False, "floor": True})
('contextual', 'floor')
>>> model_label("bow:glove-6b-50d")
'bag of context over GloVe 6B 50d (Stanford, published)'
"""

from __future__ import annotations

from typing import Any

import embeddings

SIDES = ("static", "contextual", "floor")


def side(info: dict[str, Any]) -> str:
    """'static', 'contextual' or 'floor' for a model's recorded ``embedder_info``."""
    if info.get("floor"):
        return "floor"
    if not info.get("contextual", False) or info.get("static_source", False):
        return "static"
    return "contextual"


def is_floor(name: str) -> bool:
    """A registry name (or a bow: over one) that is a floor, not a rival."""
    if name.startswith("bow:"):
        return is_floor(name[4:])
    try:
        return bool(embeddings.registry.entry(name).info().meta.get("floor", False))
    except KeyError:
        return False


def model_label(name: str) -> str:
    """A short human description of the checkpoint behind a registry name."""
    if name.startswith("bow:"):
        return f"bag of context over {model_label(name[4:])}"
    try:
        entry = embeddings.registry.entry(name).info()
    except KeyError:
        return name
    if entry.name.endswith(":"):  # a generic prefix (hf:<id>): the name says the checkpoint
        return name
    target = entry.target if not isinstance(entry.target, str) else None
    return str(entry.meta.get("label") or getattr(target, "label", "") or entry.description or name)


def describe_for_results(name: str, info: dict[str, Any]) -> dict[str, Any]:
    """``info`` plus the label, the floor flag and the side, as the runner records them."""
    out = {**info, "label": model_label(name), "floor": is_floor(name)}
    out["side"] = side(out)
    return out
