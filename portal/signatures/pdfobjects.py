"""Reading pyHanko's PDF objects: a dereferenced dictionary entry, structural equality (references
compared as references), the references under an object and the pages of a page tree."""

from __future__ import annotations

from typing import Any

__all__ = ["entry", "page_refs", "refs_under", "same", "same_except"]


def entry(dictionary: Any, key: str, default: Any = None) -> Any:
    """A dictionary entry, dereferenced (pyHanko's ``get`` returns references as they are)."""
    from pyhanko.pdf_utils import generic

    if not isinstance(dictionary, generic.DictionaryObject) or key not in dictionary:
        return default
    return dictionary[key]


def same_except(old: Any, new: Any, ignored: frozenset[str]) -> bool:
    """Two dictionaries have the same entries (references compared as references), ``ignored`` aside."""
    from pyhanko.pdf_utils import generic

    if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
        return False
    keys = (set(old) | set(new)) - ignored
    return all(key in old and key in new and same(old.raw_get(key), new.raw_get(key)) for key in keys)


def same(old: Any, new: Any, depth: int = 0) -> bool:
    """Two PDF values are equal, references compared as references (not followed)."""
    from pyhanko.pdf_utils import generic

    if depth > 32:
        return False
    if isinstance(old, generic.IndirectObject) or isinstance(new, generic.IndirectObject):
        return (
            isinstance(old, generic.IndirectObject)
            and isinstance(new, generic.IndirectObject)
            and old.reference == new.reference
        )
    if isinstance(old, generic.DictionaryObject) or isinstance(new, generic.DictionaryObject):
        if not isinstance(old, generic.DictionaryObject) or not isinstance(new, generic.DictionaryObject):
            return False
        if set(old) != set(new):
            return False
        return all(same(old.raw_get(k), new.raw_get(k), depth + 1) for k in old)
    if isinstance(old, list) or isinstance(new, list):
        if not isinstance(old, list) or not isinstance(new, list) or len(old) != len(new):
            return False
        return all(same(a, b, depth + 1) for a, b in zip(old, new, strict=True))
    return type(old) is type(new) and old == new


def refs_under(value: Any, depth: int) -> set[Any]:
    """References reachable from ``value`` through dictionaries and arrays, ``depth`` levels down."""
    from pyhanko.pdf_utils import generic

    found: set[Any] = set()
    if isinstance(value, generic.IndirectObject):
        found.add(value.reference)
        if depth <= 0:
            return found
        value = value.get_object()
    if depth <= 0:
        return found
    if isinstance(value, generic.DictionaryObject):
        for key in value:
            found |= refs_under(value.raw_get(key), depth - 1)
    elif isinstance(value, list):
        for item in value:
            found |= refs_under(item, depth - 1)
    return found


def page_refs(pages: Any, depth: int = 0) -> list[Any]:
    """References of the page objects under a page tree node (of one revision), cycles cut."""
    from pyhanko.pdf_utils import generic

    if depth > 64 or not isinstance(pages, generic.IndirectObject):
        return []
    node = pages.get_object()
    if entry(node, "/Type") == "/Page":
        return [pages.reference]
    result = []
    for kid in entry(node, "/Kids", ()):
        result.extend(page_refs(kid, depth + 1))
    return result
