"""What other parts of the platform may hear about a message.

Receivers run inside the move's transaction: what they write commits or rolls back with it.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# The head approved the answer and it went to the author. Sender: the Appeal; `answer`: the
# approved AppealAnswer. (Direct line: the question's co-authors are told too.)
answer_approved = _signals.signal("appeal-answer-approved")
