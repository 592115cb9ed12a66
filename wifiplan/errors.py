"""The one error type for bad input.

Every reader and validator raises :class:`InputError` with a one-line message that
names the file, the key path or line, and what was expected. The CLI turns it into
exit code 2 without a traceback; the UI shows the same message inline.
"""


class InputError(ValueError):
    """Bad input: a one-line message naming file, key or line, and what was expected."""

    def __init__(self, message: str, *, source: str | None = None, key: str | None = None,
                 line: int | None = None):
        self.source = source
        self.key = key
        self.line = line
        self.detail = message
        where = []
        if source:
            where.append(str(source) + (f":{line}" if line else ""))
        if key:
            where.append(key)
        prefix = ": ".join(where)
        super().__init__(f"{prefix}: {message}" if prefix else message)
