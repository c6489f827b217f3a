"""The intent of a customer's message: a trained model when the store has one, keyword
rules otherwise (and when the model is unsure).

The model (backends/routing/model.py) is trained from the store's own labelled contacts;
the keyword rules come from the routing rules file. Both see the same text: the contact's
subject and the customer's first message.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from backends.routing.model import IntentModel

#: The intent of a message nothing recognises.
GENERAL = "general"
#: Below this probability the model's answer gives way to a keyword match, if there is one.
MIN_CONFIDENCE = 0.35
_SPACE = re.compile(r"\s+")
_DIGIT = re.compile(r"\d")
_NOT_WORD = re.compile(r"[^\w']+")


@dataclass(frozen=True, slots=True)
class Guess:
    """An intent and where it came from: model, rules (keywords) or none."""

    intent: str
    source: str
    confidence: float


def normalise(text: str) -> str:
    """Lower case, one space between words, every digit a 0 (order numbers differ, their
    shape does not)."""
    return _DIGIT.sub("0", _SPACE.sub(" ", text.lower())).strip()


def features(text: str) -> list[str]:
    """Character 2- to 4-grams of each word padded with spaces (scikit-learn's `char_wb`):
    robust to typos, inflection and the two languages of one desk."""
    grams: list[str] = []
    for word in normalise(text).split(" "):
        if not word:
            continue
        padded = f" {word} "
        size = len(padded)
        for n in (2, 3, 4):
            if n > size:
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def keyword_intent(text: str, keywords: Mapping[str, tuple[str, ...]]) -> Guess:
    """The intent whose words and phrases occur most often in `text` (ties: the longer
    matches, then the name); GENERAL with source 'none' when none occurs."""
    padded = " " + _NOT_WORD.sub(" ", text.lower()).strip() + " "
    best: tuple[int, int, str] | None = None
    for intent, words in keywords.items():
        hits = [w for w in words if f" {w} " in padded]
        if hits:
            key = (len(hits), sum(len(w) for w in hits), intent)
            if best is None or key[:2] > best[:2] or (key[:2] == best[:2] and intent < best[2]):
                best = key
    if best is None:
        return Guess(GENERAL, "none", 0.0)
    return Guess(best[2], "rules", min(1.0, 0.5 + 0.1 * best[0]))


def classify(
    text: str, keywords: Mapping[str, tuple[str, ...]], model: IntentModel | None
) -> Guess:
    """The model's intent when it is sure enough, else the keywords', else the model's."""
    if model is None:
        return keyword_intent(text, keywords)
    intent, confidence = model.predict(text)
    if confidence >= MIN_CONFIDENCE:
        return Guess(intent, "model", confidence)
    fallback = keyword_intent(text, keywords)
    if fallback.source == "rules":
        return fallback
    return Guess(intent, "model", confidence)
