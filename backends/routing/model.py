"""The trained intent model: TF-IDF over character n-grams and a linear classifier
(logistic loss).

scikit-learn fits it (`train`, imported only then); what is kept is its numbers (vocabulary,
idf weights, coefficients) in a NumPy archive read with `allow_pickle=False`, so a store file
never carries code, and a prediction is one sparse dot product in NumPy (well under a
millisecond) without importing scikit-learn.
"""

from __future__ import annotations

import io
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from backends.base import InvalidInput
from backends.routing.intents import features

#: An intent needs this many labelled contacts to be learnt (and cross-validated).
MIN_SAMPLES = 5
#: Folds of the cross-validation `train` reports.
FOLDS = 5
MAX_FEATURES = 30_000


@dataclass(frozen=True)
class IntentScore:
    """How well one intent is recognised: cross-validated recall over its samples."""

    intent: str
    samples: int
    accuracy: float | None  # None: too few samples to learn


@dataclass(frozen=True)
class TrainingReport:
    samples: int
    folds: int
    accuracy: float  # over all samples of the learnt intents
    scores: tuple[IntentScore, ...]


class IntentModel:
    """A fitted model's numbers; `predict` needs only NumPy."""

    def __init__(
        self,
        classes: Sequence[str],
        vocabulary: Sequence[str],
        idf: np.ndarray,
        coef: np.ndarray,
        intercept: np.ndarray,
    ) -> None:
        self.classes = tuple(str(c) for c in classes)
        self.index = {gram: i for i, gram in enumerate(vocabulary)}
        self.idf = idf.astype(np.float64)
        self.coef = coef.astype(np.float64)
        self.intercept = intercept.astype(np.float64)

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely intent and its share of the softmax of the linear scores."""
        counts = Counter(g for g in features(text) if g in self.index)
        if not counts:
            return self.classes[0], 0.0
        cols = np.fromiter((self.index[g] for g in counts), dtype=np.int64, count=len(counts))
        tf = np.fromiter(
            (1.0 + math.log(c) for c in counts.values()), dtype=np.float64, count=len(counts)
        )
        values = tf * self.idf[cols]
        values /= np.linalg.norm(values)
        scores = self.coef[:, cols] @ values + self.intercept
        scores = np.exp(scores - scores.max())
        probs = scores / scores.sum()
        best = int(probs.argmax())
        return self.classes[best], float(probs[best])

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        vocab = sorted(self.index, key=self.index.__getitem__)
        np.savez_compressed(
            buf,
            classes=np.array(self.classes, dtype=str),
            vocabulary=np.array(vocab, dtype=str),
            idf=self.idf.astype(np.float32),
            coef=self.coef.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> IntentModel:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                [str(c) for c in z["classes"]],
                [str(v) for v in z["vocabulary"]],
                z["idf"],
                z["coef"],
                z["intercept"],
            )


def pipeline() -> object:
    """The estimator `train` fits: TF-IDF of `features`, then the linear classifier."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # scikit-learn only to train
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        TfidfVectorizer(
            analyzer=features, sublinear_tf=True, max_features=MAX_FEATURES, dtype=np.float64
        ),
        # logistic loss by stochastic gradient descent: as accurate as LogisticRegression
        # on these features, and fifty times faster to fit on two cores
        SGDClassifier(loss="log_loss", alpha=1e-4, random_state=0),
    )


def train(texts: Sequence[str], labels: Sequence[str]) -> tuple[IntentModel, TrainingReport]:
    """Fit the model on labelled texts and cross-validate it (stratified, FOLDS folds).

    Intents with fewer than MIN_SAMPLES texts are left out (reported with accuracy None).
    Raises:
        InvalidInput: fewer than two intents with enough samples.
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    per_intent = Counter(labels)
    kept = [i for i, label in enumerate(labels) if per_intent[label] >= MIN_SAMPLES]
    learnt = sorted({labels[i] for i in kept})
    if len(learnt) < 2:
        raise InvalidInput(
            f"too little to learn from: {len(labels)} labelled contacts, and an intent needs "
            f"{MIN_SAMPLES}; at least two intents must have that many"
        )
    x = [texts[i] for i in kept]
    y = [labels[i] for i in kept]
    folds = min(FOLDS, min(per_intent[label] for label in learnt))
    pipe = pipeline()
    predicted = cross_val_predict(
        pipe, x, y, cv=StratifiedKFold(folds, shuffle=True, random_state=0)
    )
    right = Counter(t for t, p in zip(y, predicted, strict=True) if t == p)
    scores = [
        IntentScore(i, per_intent[i], right[i] / per_intent[i] if i in learnt else None)
        for i in sorted(per_intent)
    ]
    pipe.fit(x, y)  # type: ignore[attr-defined]
    vectorizer, linear = pipe.steps[0][1], pipe.steps[1][1]  # type: ignore[attr-defined]
    vocab = sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.__getitem__)
    coef, intercept = linear.coef_, linear.intercept_
    if coef.shape[0] == 1:  # two classes: one row of scores for the second, zero for the first
        coef = np.vstack([np.zeros_like(coef), coef])
        intercept = np.concatenate([[0.0], intercept])
    model = IntentModel(list(linear.classes_), vocab, vectorizer.idf_, coef, intercept)
    report = TrainingReport(
        samples=len(labels),
        folds=folds,
        accuracy=sum(right.values()) / len(y),
        scores=tuple(scores),
    )
    return model, report
