"""Accounts store ISO 3166 alpha-2 codes; pages write country names."""

from qualify.countries import COUNTRY_NAMES, country_name


def test_codes_read_as_country_names():
    assert country_name("BR") == "Brazil" and country_name("br") == "Brazil"
    assert country_name("GB") == "United Kingdom" and country_name("BA") == "Bosnia and Herzegovina"
    assert country_name("XX") == "XX" and country_name("") == ""


def test_every_code_is_two_capital_letters_with_a_name():
    assert len(COUNTRY_NAMES) == 249
    assert all(len(code) == 2 and code.isascii() and code.isupper() and name for code, name in COUNTRY_NAMES.items())
