"""The user's words for the filming errors."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from portal.filming.errors import (
    CapacityExceeded,
    ContentInvalid,
    CsvProblem,
    DeadlineInvalid,
    DeadlinePassed,
    FilmingError,
    IllegalTransition,
    OfficeSignerMissing,
    PointInvalid,
    PointsCsvInvalid,
    PointUnavailable,
    SignatureRefused,
    SignatureRequired,
    WindowInvalid,
)
from portal.problems import describes
from portal.submissions.messages import deadline_day, signature_refused_message

FIELD_ERRORS = {
    "required": _l("This field is required."),
    "required_person": _l("Name at least one person: a permit is for a person."),
    "invalid_email": _l("Enter a valid e-mail address."),
    "invalid_phone": _l("Enter a valid phone number, for example +420 274 051 111."),
    "too_long": _l("At most %(max)d characters."),
    "too_many": _l("At most %(max)d."),
    "invalid_choice": _l("Choose one of the options."),
    "invalid_round": _l("Choose a round of this election."),
    "unknown_point": _l("There is no collection point %(code)s."),
    "invalid_code": _l("Use 1 to 20 letters, digits, dots, dashes or underscores."),
    "code_taken": _l("Another collection point has the code %(code)s."),
    "unknown_region": _l("%(value)s is not a region; use the region's name, for example Jihomoravský kraj."),
    "unknown_district": _l("%(value)s is not a district of %(region)s."),
    "capacity_range": _l("Enter a whole number from 1 to %(max)d."),
}

WINDOW_REASONS = {
    "order": _l("The time window ends before it starts."),
    "too_long": _l("A permit covers at most 24 hours."),
    "outside_round": _l(
        "The time window is outside the round: from the opening of the polls to the end of result processing."
    ),
}

CSV_PROBLEMS = {
    "too_large": _l("The file is larger than %(max)d KB."),
    "not_utf8": _l("The file is not in UTF-8. Save it as CSV UTF-8."),
    "malformed": _l("The file is not a readable CSV file."),
    "empty": _l("The file is empty."),
    "missing_column": _l("The column is missing."),
    "unknown_column": _l(
        "The column is not known; the columns are code, name, address, region, district, capacity, active."
    ),
    "duplicate_column": _l("The column is there twice."),
    "too_many_rows": _l("At most %(max)d points in one file."),
    "column_count": _l("The row has %(found)d columns instead of %(expected)d."),
    "invalid_flag": _l("Write 1 or 0 (or yes or no)."),
    "duplicate_code": _l("The code is already on line %(line)d."),
}


def field_error_message(code: str, detail: dict[str, object]) -> str:
    message = str(FIELD_ERRORS.get(code, FIELD_ERRORS["invalid_choice"]))
    return message % detail if detail else message


def csv_problem_message(problem: CsvProblem) -> str:
    known = CSV_PROBLEMS.get(problem.code)
    text = str(known) % problem.detail if known is not None else field_error_message(problem.code, problem.detail)
    where = _("line %(line)d", line=problem.line) if problem.line else _("the file")
    if problem.field:
        where = _("%(where)s, column %(column)s", where=where, column=problem.field)
    return f"{where}: {text}"


@describes(FilmingError)
def error_message(error: FilmingError) -> str:
    if isinstance(error, SignatureRefused):
        return signature_refused_message(error)
    if isinstance(error, SignatureRequired):
        return _("This election requires the request signed with a recognised electronic signature.")
    if isinstance(error, DeadlinePassed):
        return _(
            "The deadline has passed: permit requests were accepted until the end of %(day)s (Prague time).",
            day=deadline_day(error),
        )
    if isinstance(error, CapacityExceeded):
        return _(
            "%(point)s takes %(capacity)d persons at a time; with this permit there would be %(peak)d. "
            "Already there: %(others)s. Choose another time or place, or confirm the over-booking.",
            point=error.point,
            capacity=error.capacity,
            peak=error.peak,
            others=", ".join(error.others) or "–",
        )
    if isinstance(error, WindowInvalid):
        return str(WINDOW_REASONS.get(error.reason, WINDOW_REASONS["order"]))
    if isinstance(error, PointUnavailable):
        return _("%(point)s takes no new permits.", point=error.point)
    if isinstance(error, DeadlineInvalid):
        return _("The deadline must end before the result processing of the last round starts.")
    if isinstance(error, OfficeSignerMissing):
        return _(
            "The office's signing certificate is not configured, so no permit can be issued. Tell the administrator."
        )
    if isinstance(error, ContentInvalid | PointInvalid):
        problems = "; ".join(field_error_message(code, detail) for code, detail in error.errors.values())
        return _("Please check the form: %(problems)s", problems=problems)
    if isinstance(error, PointsCsvInvalid):
        return _(
            "Nothing was imported: %(problems)s",
            problems=" · ".join(csv_problem_message(p) for p in error.problems[:20]),
        )
    if isinstance(error, IllegalTransition):
        return _("This is not possible in the current state.")
    return _("The change could not be made.")
