"""Every string marked for translation has a Czech translation that keeps its placeholders.

The messages are extracted in-process with the mapping of babel.cfg and the keywords of
`make extract-messages`, so the test does not depend on the generated .pot file. When it
fails, run `make update-catalogues` and translate the listed messages in the Czech catalogue.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
BABEL_CFG = ROOT / "babel.cfg"
CZECH_PO = ROOT / "portal" / "translations" / "cs" / "LC_MESSAGES" / "messages.po"

#: Babel's defaults (`_`, `gettext`, `ngettext`, ...) plus the `-k` options of the Makefile.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None}

#: A named %-style placeholder: %(name)s, %(number)d, %(ratio).1f ...
PLACEHOLDER = re.compile(r"%\((\w+)\)[#0 +-]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")

#: A message id: a string, or (singular, plural) for ngettext; with its context, if any.
Key = tuple[str | tuple[str, ...], str | None]


def extracted_messages() -> dict[Key, list[str]]:
    """Every marked string under portal/ -> where it occurs."""
    with BABEL_CFG.open(encoding="utf-8") as config:
        method_map, options_map = parse_mapping_cfg(config, filename=str(BABEL_CFG))
    found: dict[Key, list[str]] = {}
    for filename, lineno, message, _comments, context in extract_from_dir(
        ROOT, method_map, options_map, keywords=KEYWORDS
    ):
        msgid = message if isinstance(message, str) else tuple(message)
        if msgid and (isinstance(msgid, str) or msgid[0]):
            found.setdefault((msgid, context), []).append(f"{filename}:{lineno}")
    return found


def czech_catalogue() -> Catalog:
    with CZECH_PO.open("rb") as po:
        return read_po(po, locale="cs")


def placeholders(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def _placeholders_kept(msgid: str | tuple[str, ...], forms: list[str]) -> bool:
    if isinstance(msgid, str):
        return placeholders(forms[0]) == placeholders(msgid)
    singular, plural = placeholders(msgid[0]), placeholders(msgid[-1])
    # Czech form 0 is for n == 1: it may follow the English singular (which may omit the count).
    return placeholders(forms[0]) in (singular, plural) and all(placeholders(form) == plural for form in forms[1:])


def problems(extracted: dict[Key, list[str]], catalogue: Catalog) -> tuple[list[str], list[str]]:
    """(messages without a usable translation, messages whose translation changes the placeholders)."""
    missing: list[str] = []
    broken: list[str] = []
    for (msgid, context), where in sorted(extracted.items(), key=lambda item: str(item[0])):
        label = f"{msgid!r}{f' [context {context!r}]' if context else ''} ({', '.join(where)})"
        entry = catalogue.get(msgid, context=context)
        forms: list[str] = []
        if entry is not None and entry.string:
            forms = [entry.string] if isinstance(entry.string, str) else list(entry.string)
        expected_forms = catalogue.num_plurals if isinstance(msgid, tuple) else 1
        if entry is None or entry.fuzzy or len(forms) != expected_forms or not all(f.strip() for f in forms):
            missing.append(label)
        elif not _placeholders_kept(msgid, forms):
            got = [sorted(placeholders(form)) for form in forms]
            broken.append(f"{label}: the translation has the placeholders {got}: {forms!r}")
    return missing, broken


def test_every_marked_string_has_a_czech_translation_with_the_same_placeholders() -> None:
    extracted = extracted_messages()
    assert len(extracted) > 100, "the extraction found suspiciously few strings; check babel.cfg"

    missing, broken = problems(extracted, czech_catalogue())

    assert not missing, (
        f"{len(missing)} message(s) have no Czech translation, or a fuzzy one, in "
        f"{CZECH_PO.relative_to(ROOT)}; run `make update-catalogues` and translate:\n  " + "\n  ".join(missing)
    )
    assert not broken, "Czech translations that change the placeholders:\n  " + "\n  ".join(broken)


def test_the_check_reports_untranslated_fuzzy_and_damaged_messages() -> None:
    catalogue = Catalog(locale="cs")
    catalogue.add("Saved.", "Uloženo.")
    catalogue.add("Fuzzy", "Nejisté", flags=("fuzzy",))
    catalogue.add("Round %(number)d", "Kolo")
    catalogue.add(("%(n)d day", "%(n)d days"), ("%(n)d den", "%(n)d dny", ""))
    extracted: dict[Key, list[str]] = {
        ("Saved.", None): ["a.py:1"],
        ("Brand new string", None): ["b.html:2"],
        ("Fuzzy", None): ["c.py:3"],
        ("Round %(number)d", None): ["d.html:4"],
        (("%(n)d day", "%(n)d days"), None): ["e.py:5"],
    }

    missing, broken = problems(extracted, catalogue)

    assert set(missing) == {
        "'Brand new string' (b.html:2)",
        "'Fuzzy' (c.py:3)",
        "('%(n)d day', '%(n)d days') (e.py:5)",
    }
    assert len(broken) == 1
    assert broken[0].startswith("'Round %(number)d' (d.html:4)")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("%(day)s, until the end of the day", {"day"}),
        ("%(days)d days and %(hours)d hours", {"days", "hours"}),
        ("100 % free, %(ratio).1f", {"ratio"}),
        ("No placeholder", set()),
    ],
)
def test_placeholders(text: str, expected: set[str]) -> None:
    assert placeholders(text) == expected
