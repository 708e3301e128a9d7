"""The Czech company identification number (IČO)."""

from __future__ import annotations

WEIGHTS = (8, 7, 6, 5, 4, 3, 2)


def ico_check_digit(first_seven: str) -> int:
    """Weights 8..2 on the first seven digits; r = sum mod 11; 1 if r = 0, 0 if r = 1, else 11 - r."""
    remainder = sum(int(digit) * weight for digit, weight in zip(first_seven, WEIGHTS, strict=True)) % 11
    if remainder == 0:
        return 1
    if remainder == 1:
        return 0
    return 11 - remainder


def normalise_ico(value: str) -> str:
    """Drop the spaces people type (``000 25 593``); keep everything else for the check."""
    return "".join(value.split())


def is_valid_ico(value: str) -> bool:
    """Eight ASCII digits whose last is the check digit of the first seven."""
    return len(value) == 8 and value.isascii() and value.isdigit() and ico_check_digit(value[:7]) == int(value[7])
