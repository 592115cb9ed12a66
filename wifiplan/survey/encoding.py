"""Survey bytes to text: the encoding, and the refusal of binary data.

Encodings UTF-8, UTF-8 with BOM and Shift_JIS (read as its superset cp932) are detected, in
that order; anything else, or binary data, is refused with the line of the first bad byte.
"""
from __future__ import annotations

import numpy as np

from ..errors import InputError


def _line_of_offset(raw: bytes, offset: int) -> int:
    return raw.count(b"\n", 0, offset) + 1


_CONTROL_BYTES = bytes([c for c in range(32) if c not in (9, 10, 13)] + [127])


def detect_encoding(raw: bytes, source: str = "<survey>", declared: str | None = None) -> str:
    """'utf-8-sig', 'utf-8' or 'cp932' (Shift_JIS); InputError for binary or other text."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InputError("UTF-16 text, expected UTF-8 or Shift_JIS (save the file as UTF-8)",
                         source=source, line=1)
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise InputError("binary data (NUL byte), expected a CSV text file", source=source,
                         line=_line_of_offset(raw, nul))
    candidates = ["utf-8-sig"] if raw.startswith(b"\xef\xbb\xbf") else ["utf-8", "cp932"]
    if declared and declared != "auto":
        candidates = [declared]
    first_error = None
    for enc in candidates:
        try:
            text = raw.decode(enc)
        except (UnicodeDecodeError, LookupError) as exc:
            if isinstance(exc, LookupError):
                raise InputError(f"unknown encoding {enc!r}", source=source) from None
            first_error = first_error or exc
            continue
        del text
        # control bytes: never part of a UTF-8 or Shift_JIS multi-byte character
        if len(raw.translate(None, _CONTROL_BYTES)) != len(raw):
            b = np.frombuffer(raw, dtype=np.uint8)
            first = int(np.argmax(np.isin(b, np.frombuffer(_CONTROL_BYTES, np.uint8))))
            raise InputError("binary data (control characters), expected a CSV text file",
                             source=source, line=_line_of_offset(raw, first))
        return enc
    line = _line_of_offset(raw, first_error.start) if first_error else None
    byte = raw[first_error.start] if first_error else 0
    raise InputError(f"undecodable byte 0x{byte:02x}: expected text in UTF-8 or Shift_JIS "
                     f"(cp932), or binary data", source=source, line=line)


def first_lines(raw: bytes, encoding: str, n: int = 3) -> list[str]:
    """The first ``n`` lines of the file's first 64 KiB, decoded (bad bytes replaced)."""
    head = raw[:65536].decode(encoding, errors="replace")
    return head.splitlines()[:n]
