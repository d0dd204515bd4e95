"""Content digests: the same policy content always gives the same sha256."""

import hashlib
import json


def digest_of(data) -> str:
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()
