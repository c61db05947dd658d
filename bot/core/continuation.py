"""When a liaison's text is the second half of a long message that Telegram split in two.

Telegram refuses a message over 4096 characters; clients split a longer text into several
messages sent at once. Only the first part carries the reply (or the /report command); the
rest arrive as plain messages. A plain text from the same person shortly after they recorded
a note that was itself nearly as long as a message can be is taken as its continuation.
Pure: the caller gives the instants (from the project's clock) and the length."""

from __future__ import annotations

from datetime import datetime, timedelta

# A part that a client cut is close to the limit (clients break at a space or a line end
# before it); a note this long is rare otherwise.
SPLIT_PART_MIN = 3000  # UTF-16 code units, as Telegram counts
# The parts are sent together; the window covers a slow network and a busy bot.
CONTINUATION_WINDOW = timedelta(minutes=3)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def continues_note(previous_note: str, previous_at: datetime, now: datetime) -> bool:
    """Whether a plain text arriving at `now` continues `previous_note`, recorded at
    `previous_at` by the same person."""
    if utf16_len(previous_note) < SPLIT_PART_MIN:
        return False
    return timedelta(0) <= now - previous_at <= CONTINUATION_WINDOW
