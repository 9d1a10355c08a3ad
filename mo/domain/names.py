"""One identity per name: " Egg ", "egg" and "EGG" are the same ingredient."""

from __future__ import annotations

import unicodedata

from mo.errors import validation_error

MAX_NAME_LENGTH = 200
_REFUSED = frozenset({"Cc", "Cs"})  # control characters, lone surrogates


def clean_name(text: object, *, field: str = "name") -> str:
    """The display form: NFKC, trimmed, inner whitespace collapsed. Raises validation_error."""
    if not isinstance(text, str):
        raise validation_error(f"{field} must be text", field=field, value=repr(text)[:100])
    cleaned = " ".join(unicodedata.normalize("NFKC", text).split())
    if not cleaned:
        raise validation_error(f"{field} is empty", field=field, value=text[:100])
    # Cs: a lone surrogate (JSON "\ud800" decodes to one) is no text a database can store.
    if len(cleaned) > MAX_NAME_LENGTH or any(unicodedata.category(ch) in _REFUSED for ch in cleaned):
        raise validation_error(
            f"{field} is too long or holds control characters",
            field=field,
            value=cleaned[:100].encode("utf-8", "backslashreplace").decode(),
        )
    return cleaned


def name_key(text: object, *, field: str = "name") -> str:
    """The identity key: the clean name, case-folded."""
    return clean_name(text, field=field).casefold()
