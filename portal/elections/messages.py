"""The user's words for the election errors."""

from __future__ import annotations

from flask_babel import gettext as _

from portal.elections.errors import ElectionError
from portal.problems import describes


@describes(ElectionError)
def error_message(error: ElectionError) -> str:
    """The refusal in the current language; an unknown code falls back to the general words."""
    details = error.details
    match error.code:
        case "no_rounds":
            return _("An election needs at least one round.")
        case "voting_order":
            return _("Round %(number)d: voting ends before it starts.", number=details["number"])
        case "live_order":
            return _("Round %(number)d: result processing ends before it starts.", number=details["number"])
        case "rounds_overlap":
            return _("Round %(number)d starts before the previous round ends.", number=details["number"])
        case "deadline_after_processing":
            return _("The application deadline is after the start of result processing.")
        case "code_taken":
            return _("An election with the code %(code)s exists.", code=details["code"])
        case "reason_required":
            return _("Say why the deadline moves: the reason goes to the audit log.")
        case "nonexistent_local_time":
            return _("%(time)s does not exist in Prague: the clocks skip that hour.", time=details["time"])
    return _("This change is not possible.")
