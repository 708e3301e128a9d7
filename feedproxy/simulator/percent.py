"""Percentages as the office writes them, two decimals, "0.00" for an empty base.

Checked against every percentage in the real ps2013/2017/2021 national and district documents and the
prez2023 national document: shares of votes (PROC_HLASU, HLASY_PROC_1KOLO, PREDNOSTNI_HLASY_PROC) are
truncated, while turnout, valid-vote share, precincts counted and seat share (UCAST_PROC,
PLATNE_HLASY_PROC, OKRSKY_ZPRAC_PROC, PROC_MANDATU) are rounded half up.
"""

from __future__ import annotations


def share(part: int, whole: int) -> str:
    """A share of votes: truncated (4.5998 % -> "4.59")."""
    if whole <= 0:
        return "0.00"
    hundredths = part * 10000 // whole
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def rate(part: int, whole: int) -> str:
    """Turnout and the like: rounded half up (70.155 % -> "70.16")."""
    if whole <= 0:
        return "0.00"
    hundredths = (part * 20000 + whole) // (2 * whole)
    return f"{hundredths // 100}.{hundredths % 100:02d}"
