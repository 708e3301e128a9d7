import pytest

from portal.accounts.ico import ico_check_digit, is_valid_ico


@pytest.mark.parametrize("ico", ["00025593", "47114983", "26439395", "00027383"])
def test_valid_ico_examples_from_the_office(ico):
    assert is_valid_ico(ico)


@pytest.mark.parametrize("ico", ["00177042", "25123890"])
def test_invalid_ico_examples_from_the_office(ico):
    assert not is_valid_ico(ico)


@pytest.mark.parametrize("ico", ["0002559", "000255930", "0002559a", "０００２５５９３", "", "0002 5593", "-0025593"])
def test_malformed_ico_is_not_valid(ico):
    assert not is_valid_ico(ico)


def _weighted_remainder(first_seven: str) -> int:
    return sum(int(digit) * weight for digit, weight in zip(first_seven, range(8, 1, -1), strict=True)) % 11


@pytest.mark.parametrize(("first_seven", "remainder", "check"), [("0000011", 5, 6), ("0000101", 6, 5)])
def test_check_digit_is_eleven_minus_remainder(first_seven, remainder, check):
    assert _weighted_remainder(first_seven) == remainder
    assert ico_check_digit(first_seven) == check


def test_remainder_zero_gives_one_and_remainder_one_gives_zero():
    # 2000003: 2*8 + 3*2 = 22, r = 0.  0000104: 1*4 + 4*2 = 12, r = 1.
    assert _weighted_remainder("2000003") == 0
    assert ico_check_digit("2000003") == 1
    assert is_valid_ico("20000031") and not is_valid_ico("20000030")
    assert _weighted_remainder("0000104") == 1
    assert ico_check_digit("0000104") == 0
    assert is_valid_ico("00001040") and not is_valid_ico("00001041")


def test_every_wrong_check_digit_is_refused():
    for digit in "0123456789":
        assert is_valid_ico("4711498" + digit) == (digit == "3")
