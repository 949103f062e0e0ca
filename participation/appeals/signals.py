"""What other parts of the platform may hear about a message.

Receivers run inside the move's transaction: what they write commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# The head approved the answer and it went to the author. Sender: the Appeal; `answer`: the
# approved AppealAnswer. (Direct line: the question's co-authors are told too.)
answer_approved = _signals.signal("appeal-answer-approved")

# The message was handed to an organization to answer it: the regional centre (or the addressee's
# own coordinator) confirmed the addressee, a coordinator redirected it, or a low rating opened a
# review at the higher organization. Sender: the Appeal (for a review: the new one);
# `organization_id`: the organization that now has to answer; `event`: the AppealEvent.
assigned_to_organization = _signals.signal("appeal-assigned-to-organization")

# The author sent the answer back for rework. Sender: the Appeal; `event`: the AppealEvent.
answer_returned = _signals.signal("appeal-answer-returned")

# The author rated the answer (any score). Sender: the Appeal; `score`: 1–5; `event`.
rating_received = _signals.signal("appeal-rating-received")

# A low rating sent the message to the higher organization (after `rating_received`). Sender: the
# low-rated Appeal; `review`: the new Appeal at the higher organization; `event`.
escalated = _signals.signal("appeal-escalated")
