"""The routing rules file, language detection, keyword intents, the trained model's exported
numbers and the choice of an operator: pure parts of routing, without a store."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from backends.base import InvalidInput
from backends.models import Channel, Priority
from backends.routing import assign, intents, language, model, rules

DEFAULTS = rules.parse(rules.default_text())


def test_each_outcome_comes_from_the_first_matching_rule_that_sets_it() -> None:
    vip_complaint = DEFAULTS.decide("complaint", Channel.CHAT, "Platinum", "it")
    assert (vip_complaint.priority, vip_complaint.sla_seconds) == (Priority.HIGH, 30 * 60)
    damaged = DEFAULTS.decide("damaged_item", Channel.EMAIL, "bronze", "en")
    assert (damaged.skill, damaged.priority, damaged.sla_seconds) == (
        "return_request",
        Priority.NORMAL,
        24 * 3600,
    )
    gold = DEFAULTS.decide("where_is_my_order", Channel.WHATSAPP, "gold", "")
    assert (gold.skill, gold.sla_seconds) == ("where_is_my_order", 120 * 60)
    plain = DEFAULTS.decide("general", Channel.PHONE, "", "")
    assert (plain.priority, plain.sla_seconds) == (Priority.NORMAL, 2 * 3600)


def test_capacity_is_the_agents_own_then_the_rules_then_25() -> None:
    assert DEFAULTS.capacity_for("chat", {"chat": 2}) == 2
    assert DEFAULTS.capacity_for("chat", {}) == 3
    assert rules.parse("").capacity_for("email", {}) == rules.FALLBACK_CAPACITY == 25


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[[rules]]\ntier = 'gold'\npriority = 'sky-high'\n", "priority must be one of"),
        ("[[rules]]\nteir = 'gold'\n", "unknown key 'teir'"),
        ("[[rules]]\nchannel = 'fax'\n", "unknown channel 'fax'"),
        ("[[rules]]\nsla_minutes = 0\n", "sla_minutes"),
        ("[capacity]\nchat = -1\n", "capacity of chat"),
        ("away_after_minutes = 0\n", "away_after_minutes"),
        ("routes = 1\n", "unknown key 'routes'"),
        ("[intents]\nrefund = 'x'\nother = [1]\n", "intents.other"),
        ("[[rules]\n", "not valid TOML"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_problem(text: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        rules.parse(text)


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("Buongiorno, dov'è il mio ordine? Non è ancora arrivato", "it"),
        ("Hello, where is my order? It has not arrived yet", "en"),
        ("Hallo, wo ist meine Bestellung? Sie ist noch nicht da", "de"),
        ("Bonjour, où est ma commande? Je ne l'ai pas reçue", "fr"),
        ("Hola, ¿dónde está mi pedido? Todavía no llega", "es"),
        ("ok", ""),  # too little evidence: the caller falls back to the profile
        ("VS-2024-0001234", ""),
    ],
)
def test_language_by_function_words(text: str, lang: str) -> None:
    assert language.detect(text) == lang


def test_keywords_pick_the_intent_with_most_matches_else_general() -> None:
    keywords = DEFAULTS.keywords
    guess = intents.keyword_intent("Vorrei il rimborso, rivoglio i soldi indietro", keywords)
    assert (guess.intent, guess.source) == ("refund_status", "rules")
    assert intents.keyword_intent("Grazie mille!", keywords) == intents.Guess(
        "general", "none", 0.0
    )


TEXTS = {
    "where_is_my_order": [
        "Where is my order? It has not arrived",
        "Dov'è il mio ordine? non è arrivato",
        "My parcel is late, tracking shows nothing",
        "Il pacco non arriva, la spedizione è ferma",
        "Order not delivered yet, where is it?",
        "Ordine non ancora consegnato",
    ],
    "refund_status": [
        "When will I get my refund?",
        "Quando arriva il rimborso?",
        "I returned the item but no money back",
        "Non ho ancora ricevuto il rimborso",
        "Refund still pending after two weeks",
        "Rimborso non accreditato",
    ],
    "account_access": [
        "I cannot log in to my account",
        "Non riesco ad accedere al mio account",
        "Password reset email never arrives",
        "La password non funziona",
        "My account is locked",
        "Account bloccato, non posso entrare",
    ],
}


def test_the_exported_model_predicts_as_scikit_learn_does() -> None:
    texts = [t for ts in TEXTS.values() for t in ts]
    labels = [label for label, ts in TEXTS.items() for _ in ts]
    fitted, report = model.train(texts, labels)
    assert report.samples == 18 and {s.intent for s in report.scores} == set(TEXTS)
    pipe = model.pipeline()  # the same estimator, fitted again (deterministic)
    pipe.fit(texts, labels)  # type: ignore[attr-defined]
    probes = [*texts, "dove si trova il mio pacco", "reset my password please", "soldi indietro"]
    expected = pipe.predict(probes)  # type: ignore[attr-defined]
    stored = model.IntentModel.from_bytes(fitted.to_bytes())
    assert [stored.predict(p)[0] for p in probes] == list(expected)
    scores = pipe.decision_function(probes)  # type: ignore[attr-defined]
    ours = np.array([_scores(stored, p) for p in probes])
    assert np.allclose(ours, scores, atol=1e-4)


def _scores(m: model.IntentModel, text: str) -> np.ndarray:
    """The linear scores `predict` takes its softmax of (recomputed from its numbers)."""
    counts = Counter(g for g in intents.features(text) if g in m.index)
    cols = [m.index[g] for g in counts]
    values = np.array([1.0 + np.log(c) for c in counts.values()]) * m.idf[cols]
    values /= np.linalg.norm(values)
    return m.coef[:, cols] @ values + m.intercept


def test_too_few_labels_to_learn_are_refused() -> None:
    with pytest.raises(InvalidInput, match="too little to learn"):
        model.train(["a", "b", "c"], ["x", "x", "y"])


def _op(name: str, idle: int, intents_: tuple[str, ...] = (), **kw: object) -> assign.Candidate:
    return assign.Candidate(
        name,
        frozenset(intents_),
        frozenset(kw.get("languages", ())),  # type: ignore[arg-type]
        frozenset(kw.get("channels", ())),  # type: ignore[arg-type]
        {"chat": 2},
        idle,
    )


def test_the_skilled_operator_idle_longest_with_room_is_chosen() -> None:
    pool = [
        _op("anna", 100, ("refund_status",)),
        _op("bruno", 50, ("complaint",)),
        _op("carla", 80),  # a generalist
        _op("dario", 10, ("refund_status",), languages=("en",)),
    ]
    held = {"anna": 0, "carla": 0, "dario": 0}
    assert assign.choose(pool, "refund_status", "it", "chat", held.__getitem__).name == "carla"
    assert assign.choose(pool, "refund_status", "en", "chat", held.__getitem__).name == "dario"
    held["dario"] = 2  # at capacity: the next in line
    assert assign.choose(pool, "refund_status", "en", "chat", held.__getitem__).name == "carla"
    held["carla"] = held["anna"] = 2
    assert assign.choose(pool, "refund_status", "en", "chat", held.__getitem__) is None
    assert assign.choose(pool, "refund_status", "en", "email", held.__getitem__) is None
