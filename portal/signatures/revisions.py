"""What changed between two revisions of a signed PDF: only what adding signatures needs.

Used twice: the signed revision must be an incremental update of the portal's own PDF that adds the
signature and changes nothing else of its content (``not_bound_to_original``), and after the signed
revision only validation data and harmless document timestamps may follow (else
``modified_after_signing``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from io import BytesIO
from typing import Any

from portal.signatures.pagetext import page_text_boxes
from portal.signatures.pdfobjects import entry, page_refs, refs_under, same_except

__all__ = [
    "MAX_WIDGET_AREA",
    "MAX_WIDGET_SIDE",
    "OriginalInfo",
    "bound_to_original",
    "only_signature_added",
    "only_timestamps_added",
    "original_info",
]

#: Catalog entries a signing tool may add or change: the form, permissions, XMP metadata, validation data.
_CATALOG_MAY_CHANGE = frozenset({"/AcroForm", "/Perms", "/Metadata", "/DSS", "/Extensions"})
#: AcroForm entries a signing tool may change.
_ACROFORM_MAY_CHANGE = frozenset({"/Fields", "/SigFlags", "/DR", "/DA", "/NeedAppearances"})

#: The largest visible signature or timestamp widget allowed, in points: each side at most about
#: 11.6 cm and the area at most 32,000 pt2 (under 4 % of an A4 page; e.g. 300 x 100 or 100 x 300):
#: a stamp, not an overlay over the page.
MAX_WIDGET_SIDE = 330.0
MAX_WIDGET_AREA = 32_000.0
#: Annotation flags that keep a widget off screen and paper: Hidden (2), NoView (32).
_INVISIBLE_FLAGS = 2 | 32

#: PDF versions a signing tool may declare in the catalog (pyHanko writes /2.0 for ECDSA, for example).
_PDF_VERSIONS = ("/1.0", "/1.1", "/1.2", "/1.3", "/1.4", "/1.5", "/1.6", "/1.7", "/2.0")

#: Whether a (new or changed) form field is one a signer may add.
FieldCheck = Callable[[Any], bool]


@dataclass(frozen=True)
class OriginalInfo:
    length: int
    revisions: int
    startxref: int


def original_info(original: bytes) -> OriginalInfo | None:
    """Where the portal's own PDF ends: its length, revision count and last startxref (None: unreadable)."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    try:
        reader = PdfFileReader(BytesIO(original), strict=False)
        revisions = reader.xrefs.total_revisions
        startxref = reader.xrefs.get_startxref_for_revision(revisions - 1)
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError):
        return None
    return OriginalInfo(length=len(original), revisions=revisions, startxref=startxref)


def bound_to_original(embedded: Any, data: bytes, original: bytes, info: OriginalInfo | None) -> bool:
    """The signed revision is an incremental update of ``original`` that adds the signature and
    changes nothing else of the original's content."""
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.pdf_utils.reader import PdfFileReader

    if info is None or not data.startswith(original):
        return False
    byte_range = list(embedded.byte_range)
    if len(byte_range) != 4 or byte_range[0] != 0 or byte_range[1] < info.length:
        return False
    revision = embedded.signed_revision
    base = info.revisions - 1
    if revision <= base or embedded.reader.xrefs.get_startxref_for_revision(base) != info.startxref:
        return False
    try:
        signed = PdfFileReader(BytesIO(data[: byte_range[2] + byte_range[3]]), strict=False)
        if signed.xrefs.total_revisions != revision + 1:
            return False
        return only_signature_added(signed, base, revision)
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return False


def only_timestamps_added(embedded: Any) -> bool:
    """After the signed revision, only document timestamps and validation data were added."""
    from pyhanko.pdf_utils.misc import PdfError

    reader = embedded.reader
    try:
        return only_signature_added(
            reader, embedded.signed_revision, reader.xrefs.total_revisions - 1, timestamps_only=True
        )
    except (PdfError, ValueError, TypeError, KeyError, IndexError, AttributeError, RecursionError):
        return False


def only_signature_added(reader: Any, base: int, last: int, *, timestamps_only: bool = False) -> bool:
    """Between revisions ``base`` and ``last``, objects that existed at ``base`` changed only as adding
    signatures needs.

    Allowed: the catalog's form, XMP metadata and validation data (DSS) entries, the document info,
    the form's field list and signature flags, the DSS and what it holds, signature fields being filled,
    and pages gaining signature widgets. New fields must be signature fields; with ``timestamps_only``
    they must hold document timestamps. Nothing that existed may be freed. New objects may exist:
    only what is reachable from the checked objects is rendered, and those references are checked.
    """
    changed = _changed_objects(reader.xrefs, base, last)
    if changed is None:
        return False
    old = reader.get_historical_resolver(base)
    new = reader.get_historical_resolver(last)
    catalogs = _catalogs(old, new)
    if catalogs is None:
        return False
    old_root_ref, old_root, new_root = catalogs
    if not _catalog_ok(old_root, new_root):
        return False
    allowed = {old_root_ref} | _catalog_objects(old, old_root)
    acceptable: FieldCheck = partial(_acceptable_field, timestamps_only=timestamps_only)
    form = _form_objects_changed(old_root, new_root, new, changed, acceptable)
    if form is None or not _new_fields_ok(new_root, _form_fields(old_root), acceptable):
        return False
    pages = _pages_changed(old, new, old_root, changed, acceptable)
    if pages is None:
        return False
    return changed <= allowed | form | pages


def _changed_objects(xrefs: Any, base: int, last: int) -> set[Any] | None:
    """The objects that existed at ``base`` and were written again up to ``last``; None when one of
    them was freed."""
    changed: set[Any] = set()
    for revision in range(base + 1, last + 1):
        if any(xrefs.get_introducing_revision(ref) <= base for ref in xrefs.refs_freed_in_revision(revision)):
            return None
        for ref in xrefs.explicit_refs_in_revision(revision):
            if xrefs.get_introducing_revision(ref) <= base:
                changed.add(ref)
    return changed


def _catalogs(old: Any, new: Any) -> tuple[Any, Any, Any] | None:
    """(the old catalog's reference, the old catalog, the new catalog); None unless both are indirect."""
    from pyhanko.pdf_utils import generic

    old_root_ref = old.trailer_view.raw_get("/Root")
    new_root_ref = new.trailer_view.raw_get("/Root")
    if not isinstance(old_root_ref, generic.IndirectObject) or not isinstance(new_root_ref, generic.IndirectObject):
        return None
    return old_root_ref.reference, old.get_object(old_root_ref.reference), new.get_object(new_root_ref.reference)


def _catalog_ok(old_root: Any, new_root: Any) -> bool:
    """The catalog changed only in the entries a signing tool may change, and the form has no XFA."""
    from pyhanko.pdf_utils import generic

    if not same_except(old_root, new_root, _CATALOG_MAY_CHANGE | {"/Version"}) or not _version_ok(old_root, new_root):
        return False
    new_form_dict = entry(new_root, "/AcroForm")
    return not (isinstance(new_form_dict, generic.DictionaryObject) and "/XFA" in new_form_dict)


def _catalog_objects(old: Any, old_root: Any) -> set[Any]:
    """The document info, the XMP metadata and the DSS with what it holds: a signing tool may rewrite them."""
    from pyhanko.pdf_utils import generic

    allowed: set[Any] = set()
    info_ref = old.trailer_view.raw_get("/Info") if "/Info" in old.trailer_view else None
    if isinstance(info_ref, generic.IndirectObject):
        allowed.add(info_ref.reference)
    if "/Metadata" in old_root and isinstance(old_root.raw_get("/Metadata"), generic.IndirectObject):
        allowed.add(old_root.raw_get("/Metadata").reference)
    if "/DSS" in old_root:
        allowed |= refs_under(old_root.raw_get("/DSS"), depth=4)
    return allowed


def _acceptable_field(field: Any, *, timestamps_only: bool) -> bool:
    """A harmless signature field (with ``timestamps_only``: one holding a document timestamp)."""
    from pyhanko.pdf_utils import generic

    if entry(field, "/FT") != "/Sig" or not _harmless_annotation(field):
        return False
    if not timestamps_only:
        return True
    value = entry(field, "/V")
    return isinstance(value, generic.DictionaryObject) and entry(value, "/Type") == "/DocTimeStamp"


def _form_fields(root: Any) -> list[Any]:
    """The form's field list (references as they are), empty without a form."""
    if "/AcroForm" not in root:
        return []
    return list(entry(root.raw_get("/AcroForm").get_object(), "/Fields", ()))


def _form_objects_changed(
    old_root: Any, new_root: Any, new: Any, changed: set[Any], acceptable: FieldCheck
) -> set[Any] | None:
    """The original form's objects that may change: the form dictionary, its field list and signature
    fields being filled. None when the form changed otherwise or a changed field is no such field."""
    from pyhanko.pdf_utils import generic

    if "/AcroForm" not in old_root:
        return set()
    acroform_ref = old_root.raw_get("/AcroForm")
    old_form = acroform_ref.get_object()
    new_form = entry(new_root, "/AcroForm")
    if new_form is None or not same_except(old_form, new_form, _ACROFORM_MAY_CHANGE):
        return None
    allowed: set[Any] = set()
    if isinstance(acroform_ref, generic.IndirectObject):
        allowed.add(acroform_ref.reference)
    fields_ref = old_form.raw_get("/Fields") if "/Fields" in old_form else None
    if isinstance(fields_ref, generic.IndirectObject):
        allowed.add(fields_ref.reference)
    for field_ref in list(entry(old_form, "/Fields", ())):  # fields of the original: only signature fields may change
        if isinstance(field_ref, generic.IndirectObject) and field_ref.reference in changed:
            if not acceptable(new.get_object(field_ref.reference)):
                return None
            allowed.add(field_ref.reference)
    return allowed


def _new_fields_ok(new_root: Any, old_fields: list[Any], acceptable: FieldCheck) -> bool:
    """Every field of the new form is an old one or an acceptable (signature) field."""
    from pyhanko.pdf_utils import generic

    if "/AcroForm" not in new_root:
        return True
    old_field_refs = {f.reference for f in old_fields if isinstance(f, generic.IndirectObject)}
    for field_ref in entry(new_root["/AcroForm"], "/Fields", ()):
        if not isinstance(field_ref, generic.IndirectObject):
            return False
        if field_ref.reference not in old_field_refs and not acceptable(field_ref.get_object()):
            return False
    return True


def _pages_changed(old: Any, new: Any, old_root: Any, changed: set[Any], acceptable: FieldCheck) -> set[Any] | None:
    """The pages (and their annotation arrays) that changed only by gaining signature widgets; None
    when a page changed otherwise."""
    from pyhanko.pdf_utils import generic

    allowed: set[Any] = set()
    for page_ref in page_refs(old_root.raw_get("/Pages")):
        old_page = old.get_object(page_ref)
        new_page = new.get_object(page_ref)
        annots_ref = old_page.raw_get("/Annots") if "/Annots" in old_page else None
        annots_changed = isinstance(annots_ref, generic.IndirectObject) and annots_ref.reference in changed
        if page_ref not in changed and not annots_changed:
            continue
        if not same_except(old_page, new_page, frozenset({"/Annots"})):
            return None
        if not _only_signature_widgets_added(old_page, new_page, acceptable):
            return None
        allowed.add(page_ref)
        if isinstance(annots_ref, generic.IndirectObject):
            allowed.add(annots_ref.reference)
    return allowed


def _annotation_refs(page: Any) -> list[Any] | None:
    """The page's annotation references (None for a direct one); None when /Annots is no array."""
    from pyhanko.pdf_utils import generic

    annots = page.raw_get("/Annots") if "/Annots" in page else generic.ArrayObject()
    if isinstance(annots, generic.IndirectObject):
        annots = annots.get_object()
    if not isinstance(annots, list):
        return None
    return [a.reference if isinstance(a, generic.IndirectObject) else None for a in annots]


def _only_signature_widgets_added(old_page: Any, new_page: Any, acceptable: FieldCheck) -> bool:
    """The page's annotations are the old ones plus widgets of acceptable (signature) fields."""
    old_refs, new_refs = _annotation_refs(old_page), _annotation_refs(new_page)
    if old_refs is None or new_refs is None or None in new_refs:
        return False
    if not {r for r in old_refs if r is not None} <= set(new_refs):
        return False
    text: list[Any] | None = None
    for annot in entry(new_page, "/Annots", ()):
        if annot.reference in old_refs:
            continue
        widget = annot.get_object()
        if text is None:
            boxes = page_text_boxes(old_page)
            text = [(-1e9, -1e9, 1e9, 1e9)] if boxes is None else boxes  # unreadable: all of it is text
        if entry(widget, "/Subtype") != "/Widget" or not _harmless_annotation(widget, text):
            return False
        field = widget if "/FT" in widget or "/Parent" not in widget else widget["/Parent"]
        if not acceptable(field):
            return False
    return True


def _harmless_annotation(widget: Any, text: list[Any] | None = None) -> bool:
    """A signature field or widget a signer may add: no actions (``/A``, ``/AA``), and either invisible
    (a zero-size rectangle, or Hidden/NoView) or at most a bounded small stamp that, when the page's
    ``text`` boxes are given, overlaps none of them."""
    from pyhanko.pdf_utils import generic

    if not isinstance(widget, generic.DictionaryObject) or "/A" in widget or "/AA" in widget:
        return False
    for kid in entry(widget, "/Kids", ()):
        if not _harmless_annotation(kid.get_object() if isinstance(kid, generic.IndirectObject) else kid):
            return False
    if "/Rect" not in widget:
        return True
    rect = entry(widget, "/Rect")
    if not isinstance(rect, list) or len(rect) != 4:
        return False
    try:
        x1, y1, x2, y2 = (float(value) for value in rect)
        flags = int(entry(widget, "/F", 0))
    except (TypeError, ValueError):
        return False
    width, height = abs(x2 - x1), abs(y2 - y1)
    if flags & _INVISIBLE_FLAGS or width == 0 or height == 0:
        return True
    if width > MAX_WIDGET_SIDE or height > MAX_WIDGET_SIDE or width * height > MAX_WIDGET_AREA:
        return False
    left, right, bottom, top = min(x1, x2), max(x1, x2), min(y1, y2), max(y1, y2)
    return not any(bx1 < right and left < bx2 and by1 < top and bottom < by2 for bx1, by1, bx2, by2 in text or ())


def _version_ok(old_root: Any, new_root: Any) -> bool:
    """The catalog's /Version is unchanged, or set to a known PDF version not lower than before."""
    if "/Version" not in new_root:
        return "/Version" not in old_root
    new = str(new_root.raw_get("/Version"))
    if new not in _PDF_VERSIONS:
        return False
    if "/Version" not in old_root:
        return True
    old = str(old_root.raw_get("/Version"))
    return old in _PDF_VERSIONS and _PDF_VERSIONS.index(new) >= _PDF_VERSIONS.index(old)
