"""The rough text boxes of a content stream (visible widgets must keep away from them)."""

from __future__ import annotations

from portal.signatures.pagetext import text_boxes


def test_lines_moved_by_td_and_matrices() -> None:
    boxes = text_boxes(b"q 1 0 0 1 10 20 cm BT /F1 10 Tf 50 780 Td (abcd) Tj 0 -14 Td [(ab) 500 (cd)] TJ ET Q")
    assert boxes is not None and len(boxes) == 2
    (x1, y1, x2, y2), (u1, _v1, u2, v2) = boxes
    assert (x1, x2) == (60.0, 80.0) and y1 < 800 < y2
    assert u1 == 60.0 and v2 < y1 and u2 < x2  # the TJ adjustment narrows the second line


def test_strings_with_escapes_hex_and_t_star() -> None:
    boxes = text_boxes(rb"BT /F1 12 Tf 14 TL 100 100 Td (a\)b\(c\\d\101) Tj T* <00410042> Tj (x) ' ET")
    assert boxes is not None and len(boxes) == 3
    assert boxes[0][2] - boxes[0][0] == 8 * 6.0  # a ) b ( c \\ d A
    assert boxes[1][1] < boxes[0][1] and boxes[1][2] - boxes[1][0] == 4 * 6.0


def test_unreadable_content_is_none() -> None:
    assert text_boxes(b"BT /F1 12 Tf (unterminated Tj ET") is None
    assert text_boxes(b"BT \x80\x81 ET") is None
