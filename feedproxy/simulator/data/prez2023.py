"""prez2023, round 1: the candidates and the national totals of the real result.

Transcribed from the national document ``/pls/prez2023/vysledky`` generated 2023-01-15T17:34:28, as quoted
in full in the README of a public client (GitHub, found by searching for ``pe_vysledky.xsd``); no copy
of that document is under tests/data. Candidate 3 (Josef Středula) withdrew before the vote and
is absent from the document, so the numbers run 1, 2, 4..9.
"""

#: (PORADOVE_CISLO, JMENO, PRIJMENI, TITULPRED, TITULZA, HLASY_1KOLO at 100 %).
CANDIDATES = (
    (1, "Pavel", "Fischer", "", "", 376705),
    (2, "Jaroslav", "Bašta", "", "", 248375),
    (4, "Petr", "Pavel", "Ing.", "M.A.", 1975056),
    (5, "Tomáš", "Zima", "prof. MUDr.", "DrSc.", 30769),
    (6, "Danuše", "Nerudová", "prof. Ing.", "Ph.D.", 777080),
    (7, "Andrej", "Babiš", "Ing.", "", 1952213),
    (8, "Karel", "Diviš", "PhDr.", "", 75475),
    (9, "Marek", "Hilšer", "MUDr. Bc.", "Ph.D.", 142912),
)
#: The national UCAST of round 1 at 100 %.
OKRSKY_CELKEM = 14857
ZAPSANI_VOLICI = 8245962
VYDANE_OBALKY = 5626824
ODEVZDANE_OBALKY = 5622812
PLATNE_HLASY = 5578585
#: The municipality code the office gives precincts abroad.
CIS_OBEC_ZAHRANICI = 999997
