"""Normalisation of emails, phones, names, countries, languages and stages."""

from __future__ import annotations

import pandas as pd

from vivier.ingest.normalize import (
    clean_names,
    country_codes,
    language_codes,
    normalize_emails,
    phone_regions,
    phones_to_e164,
    split_city_country,
    split_full_names,
    valid_email,
)
from vivier.ingest.rejections import rejection_side
from vivier.ingest.stages import StageMap


def test_emails_are_trimmed_lowercased_and_checked() -> None:
    emails = normalize_emails(pd.Series([" Jean.Dupont@Example.FR ", "bad@", "", None, "a.b+tag@sub.example.co.uk"]))
    assert emails.tolist()[:2] == ["jean.dupont@example.fr", "bad@"]
    assert emails.isna().tolist() == [False, False, True, True, False]
    assert valid_email(emails).tolist() == [True, False, False, False, True]


def test_phones_become_e164_in_the_persons_country() -> None:
    phones = pd.Series(["06 12 34 56 78", "06.12.34.56.78", "+44 20 7946 0958", "030 1234567", "06 5188 9804", "n/a"])
    regions = pd.Series(["FR", "FR", None, "DE", "IT", "FR"])
    assert phones_to_e164(phones, regions).tolist() == [
        "+33612345678",
        "+33612345678",
        "+442079460958",
        "+49301234567",
        "+390651889804",
        pd.NA,
    ]
    assert phone_regions(pd.Series(["+442079460958", "+33612345678"])).tolist() == ["GB", "FR"]


def test_countries_and_languages_in_any_of_our_languages_become_iso_codes() -> None:
    countries = pd.Series(["France", "Allemagne", "Deutschland", "Italia", "UK", "be", "Royaume-Uni", "Atlantis"])
    assert country_codes(countries).tolist() == ["FR", "DE", "DE", "IT", "GB", "BE", "GB", pd.NA]
    languages = pd.Series(["fr", "fr-FR", "French", "Français", "Deutsch", "italiano", "klingon"])
    assert language_codes(languages).tolist() == ["fr", "fr", "fr", "fr", "de", "it", pd.NA]


def test_names_are_cleaned_and_split() -> None:
    assert clean_names(pd.Series(["  JEAN  ", "marie-claire", "Élodie", ""])).tolist() == [
        "Jean",
        "Marie-Claire",
        "Élodie",
        pd.NA,
    ]
    split = split_full_names(pd.Series(["Jean-Luc Dupont", "Dupont, Jean", "Cher", "Anna Maria Rossi"]))
    assert split["first_name"].tolist() == ["Jean-Luc", "Jean", pd.NA, "Anna Maria"]
    assert split["last_name"].tolist() == ["Dupont", "Dupont", "Cher", "Rossi"]
    located = split_city_country(pd.Series(["Versailles, France", "Lyon", None]))
    assert located["city"].tolist() == ["Versailles", "Lyon", pd.NA]
    assert located["country"].tolist() == ["France", pd.NA, pd.NA]


def test_stage_names_rank_by_their_most_specific_phrase() -> None:
    stages = StageMap.load()
    names = pd.Series(
        [
            "Entretien téléphonique",
            "Entretien technique",
            "ENTRETIEN FINAL",
            "Offre",
            "Présélection",
            "Colloquio finale",
        ]
    )
    assert stages.rank(names).tolist() == [2, 3, 4, 5, 1, 4]
    assert stages.is_known(pd.Series(["Étape mystère", None, ""])).tolist() == [False, True, True]
    silver = stages.silver_medalist(pd.Series([4, 5, 3, 4]), pd.Series(["rejected", "rejected", "rejected", "hired"]))
    assert silver.tolist() == [True, True, False, False]


def test_rejection_side_prefers_the_ats_flag_then_the_reason() -> None:
    sides = rejection_side(
        pd.Series(["rejected", "rejected", "rejected", "rejected", "hired"]),
        pd.Series(["Candidat a retiré sa candidature", "Profil trop junior", None, "Position filled", None]),
        pd.Series([None, None, None, "candidate", None]),
    )
    assert sides.tolist() == ["candidate", "company", "unknown", "candidate", pd.NA]


def test_the_vectorised_phone_fast_path_agrees_with_phonenumbers() -> None:
    import phonenumbers

    samples = [
        ("01 42 68 53 00", "FR"),
        ("06-12-34-56-78", "FR"),
        ("+33 (0)6 12 34 56 78", "FR"),
        ("0033 6 12 34 56 78", "DE"),
        ("030 901820", "DE"),
        ("0151 23456789", "DE"),
        ("06 6982 0000", "IT"),
        ("347 123 4567", "IT"),
        ("020 7946 0958", "GB"),
        ("07700 900123", "GB"),
        ("02 555 12 12", "BE"),
        ("912 345 678", "ES"),
        ("+49 30 901820", None),
    ]
    phones = pd.Series([p for p, _ in samples])
    regions = pd.Series([r for _, r in samples])
    expected = [
        phonenumbers.format_number(phonenumbers.parse(p, r or "FR"), phonenumbers.PhoneNumberFormat.E164)
        for p, r in samples
    ]
    assert phones_to_e164(phones, regions).tolist() == expected
