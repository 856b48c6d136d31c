"""The error type a user can fix, shared by every layer (imports nothing).

Library code raises :class:`NexteditError` (or a subclass) for a failure that is the caller's to
fix, not a bug: a missing input, an unwritable output, an unknown name, a port already in use, a
server that cannot be reached. Its message is one line and names the bad value (file and line,
option, key, URL). The ``nextedit`` command line prints it as ``error: <message>`` on stderr and
exits with status 1, without a traceback; any other exception is a bug and keeps its traceback.
"""

from __future__ import annotations


class NexteditError(Exception):
    """A failure the user can fix; ``str(error)`` is one line naming the bad value."""
