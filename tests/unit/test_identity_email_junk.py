"""E-mail placeholders never link two people; real addresses that look like them still do.

A junk address normalises to "" (it never becomes an identity); a real one to its
lower-case form. Each junk rule is tested on both sides: variants it must catch,
and real addresses a looser rule would throw away.
"""

from __future__ import annotations

import pytest

from backends.identity import normalise as n


@pytest.mark.parametrize(
    "junk",
    [
        # placeholder local parts, any case, with +tags
        "NoEmail@shop.it",
        "test+1@shop.it",
        "TEST@shop.it",
        "x@shop.it",
        "abc@shop.it",
        "info@shop.it",
        "customer@shop.it",
        "n/a@shop.it",
        "donotreply@x.it",
        "do-not-reply@x.it",
        # placeholder words followed by anything
        "noemail123@shop.it",
        "nomail99@x.it",
        "no.email+x@shop.it",
        "no_email123@shop.it",
        "no-email.orders@shop.it",
        "noreply-shop@x.it",
        "no-reply.orders@shop.it",
        "donotreply2@x.it",
        "do-not-reply-orders@x.it",
        # Gmail ignores dots: still the placeholder
        "n.o.e.m.a.i.l@gmail.com",
        "no.email@googlemail.com",
        # placeholder domains
        "mario@test.com",
        "mario@mailinator.com",
        "mario@example.org",
        "mario@noemail.com",
        "mario@localhost",
        "mario@invalid",
        # malformed
        "mario@@shop.it",
        "mario@shop",
        "mario@shop.i",
        "@shop.it",
        "mario@shop.it.",
        "+tag@gmail.com",
        "..@gmail.com",
    ],
)
def test_junk_email_variants_are_dropped(junk: str) -> None:
    assert n.email(junk) == ""


@pytest.mark.parametrize(
    "real",
    [
        # start like a placeholder word, but are names
        "noemi@shop.it",
        "nomadi@shop.it",
        "nora@shop.it",
        "norma.reply@shop.it",
        "testa@libero.it",
        "tester@shop.it",
        "contest@shop.it",
        "abcd@shop.it",
        "xx1@shop.it",
        "info.rossi@libero.it",
        # domains that only contain a placeholder domain
        "anna@test.company.it",
        "mario@atest.com",
        "mario@test.com.au",
        "mario@sub.example.com",
    ],
)
def test_real_addresses_that_look_like_junk_are_kept(real: str) -> None:
    assert n.email(real) == real


@pytest.mark.parametrize(
    "raw,clean",
    [
        ("mailto:Mario@Shop.IT", "mario@shop.it"),
        ("<mario@shop.it>", "mario@shop.it"),
        ("mario @ shop.it", "mario@shop.it"),
        ("Mario.Rossi+promo@libero.it", "mario.rossi+promo@libero.it"),
        ("m.a.r.i.o+x@gmail.com", "mario@gmail.com"),
        ("Mario.Rossi@GoogleMail.com", "mariorossi@gmail.com"),
    ],
)
def test_real_addresses_are_normalised(raw: str, clean: str) -> None:
    assert n.email(raw) == clean


def test_no_value_is_no_email() -> None:
    assert n.email(None) == ""
    assert n.email(12) == ""
    assert n.email("   ") == ""


def test_only_the_first_plus_starts_a_tag() -> None:
    assert n.email("mario+a+b@gmail.com") == "mario@gmail.com"
    assert n.email("test+a+b@shop.it") == ""  # the placeholder before the first +
    assert n.email("anna+a+b@libero.it") == "anna+a+b@libero.it"  # kept where tags matter
