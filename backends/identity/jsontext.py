"""Compact JSON text, as stored: the one encoder of records, features and golden profiles."""

from __future__ import annotations

import json
from typing import Any

_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
try:  # the C encoder `_ENCODER.encode` builds on every call, built once (no cycle check:
    # what is encoded here comes from parsed files and never refers to itself)
    from json.encoder import c_make_encoder as _c_make_encoder
    from json.encoder import encode_basestring as _encode_str

    _C_ENCODE = (
        _c_make_encoder(None, _ENCODER.default, _encode_str, None, ":", ",", False, False, True)
        if _c_make_encoder
        else None
    )
except (ImportError, TypeError):  # pragma: no cover - another Python's json
    _C_ENCODE = None


def dumps(value: Any) -> str:
    """Compact JSON, as `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`."""
    if _C_ENCODE is not None and value.__class__ is not str:
        return "".join(_C_ENCODE(value, 0))
    return _ENCODER.encode(value)
