"""/v1/batch, /v1/track, /v1/identify, /v1/page, /v1/screen, /v1/group and /v1/alias in Segment's
HTTP Tracking API format, so a Segment or RudderStack source can point at Qualify.

Authentication as Segment's: the source's write key as the HTTP Basic user name (empty password)
or as `writeKey` in the body; no session, no CSRF. Bodies may be gzip. Limits as Segment's: 32 KB
a message (and a single call), 500 KB a batch, both measured uncompressed. Answers are JSON:
`{"success": true}`, or `{"success": false, "code": ..., "message": ...}` with a 400 (body,
size or message errors) or 401 (write key); when some messages of a batch are refused the others
are still applied and `errors` lists the refused ones by index. A field skipped of a message that
was applied (an invalid email trait) is listed in `warnings`, the same way, beside either answer.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import zlib
from typing import Any

from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from . import tracking
from .models import Source, hash_key

MAX_MESSAGE_BYTES = 32 * 1024
MAX_BATCH_BYTES = 500 * 1024
# A message's size is that of its compact JSON; one encoder for all (json.dumps makes one a call).
_COMPACT = json.JSONEncoder(separators=(",", ":"))
# A lone surrogate reaches Python escaped (\ud800-\udfff; a pair is one of these too) or, since
# json.loads decodes bytes with "surrogatepass", as its raw UTF-8 bytes (ED A0-BF ..).
_SURROGATE_POSSIBLE = re.compile(rb"\\u[dD][89a-fA-F]|\xed[\xa0-\xbf]")
_ZEROS = re.compile(rb"\0*")
_GZIP_SLICE = 16 * 1024


def _error(status: int, code: str, message: str, **extra: Any) -> JsonResponse:
    return JsonResponse({"success": False, "code": code, "message": message, **extra}, status=status)


class _TooLarge(ValueError):
    pass


def _body(request: HttpRequest, limit: int) -> bytes:
    """The uncompressed body, refused past `limit` bytes without inflating more than that."""
    raw = request.body
    if request.headers.get("Content-Encoding", "").strip().lower() == "gzip":
        return _gunzip(raw, limit)
    if len(raw) > limit:
        raise _TooLarge
    return raw


def _gunzip(raw: bytes, limit: int) -> bytes:
    """Every member of a gzip body: `cat a.gz b.gz` and some SDKs send several, and reading the
    first alone lost the rest of the batch. Zero bytes between members are padding, as gzip(1)
    reads them. Past `limit` bytes in all, whichever member holds them, it stops (a gzip bomb
    costs `limit`). Input goes in small slices, as zlib copies what follows a member's end: the
    whole rest copied at every member made many small members cost quadratic time. A body over
    twice the limit is refused unread (JSON never grows when compressed; members that each hold a
    few bytes do, about 20 bytes a member, at a few microseconds each)."""
    if len(raw) > 2 * limit:
        raise _TooLarge
    view, parts, size, pos = memoryview(raw), [], 0, 0
    inflater = None
    while True:
        if inflater is None:
            pos = _ZEROS.match(raw, pos).end()
            if pos == len(raw) and parts:
                return b"".join(parts)
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        piece = view[pos:pos + _GZIP_SLICE]
        out = inflater.decompress(piece, limit + 1 - size)  # never 0 (no limit): size <= limit here
        size += len(out)
        if size > limit:
            raise _TooLarge
        parts.append(out)
        if inflater.eof:
            pos += len(piece) - len(inflater.unused_data)
            inflater = None
        else:
            pos += len(piece)  # all of it taken: output stopped short of the limit
            if pos >= len(raw):
                raise zlib.error("truncated gzip body")


def _write_key(request: HttpRequest, body: dict[str, Any]) -> str:
    header = request.headers.get("Authorization", "")
    if header[:6].lower() == "basic ":
        try:
            return base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")[0]
        except (binascii.Error, UnicodeDecodeError):
            return ""
    key = body.get("writeKey")
    return key if isinstance(key, str) and key.isascii() else ""  # keys are ASCII; a lone surrogate cannot be hashed


@csrf_exempt
@require_POST
def receive(request: HttpRequest, kind: str) -> JsonResponse:
    limit = MAX_BATCH_BYTES if kind == "batch" else MAX_MESSAGE_BYTES
    try:
        raw = _body(request, limit)
    except _TooLarge:
        return _error(400, "payload_too_large", f"The body is over {limit // 1024} KB, the limit for /v1/{kind}.")
    except zlib.error:
        return _error(400, "invalid_request", "The body is not valid gzip.")
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        return _error(400, "invalid_json", "The body is not valid JSON.")
    if not isinstance(body, dict):
        return _error(400, "invalid_request", "The body must be a JSON object.")
    key = _write_key(request, body)
    source = Source.objects.filter(key_hash=hash_key(key), active=True).first() if key else None
    if source is None:
        return _error(401, "invalid_write_key", "Missing or unknown write key: send the source's write key as "
                      "the Basic auth user name or as writeKey.")
    now = timezone.now()
    nul_possible = b"\\u0000" in raw  # JSON text can carry NUL only escaped; most bodies skip the walk
    surrogate_possible = _SURROGATE_POSSIBLE.search(raw) is not None
    if kind == "batch":
        batch = body.get("batch")
        if not isinstance(batch, list):
            return _error(400, "invalid_request", "A batch body has a `batch` list of messages.")
        shared = {k: body[k] for k in ("context", "integrations") if isinstance(body.get(k), dict)}
        # Batch-level context and integrations apply to every message that has none of its own.
        raws = [{**shared, **m} if isinstance(m, dict) else m for m in batch] if shared else batch
        messages = [tracking.parse(i, m, now, nul_possible=nul_possible, surrogate_possible=surrogate_possible)
                    for i, m in enumerate(raws)]
        if len(raw) > MAX_MESSAGE_BYTES:  # only then can one message be over the limit
            for msg, m in zip(messages, batch):
                if not msg.error and len(_COMPACT.encode(m)) > MAX_MESSAGE_BYTES:
                    msg.error = f"The message is over {MAX_MESSAGE_BYTES // 1024} KB."
    else:
        messages = [tracking.parse(0, body, now, kind=kind, nul_possible=nul_possible,
                                    surrogate_possible=surrogate_possible)]
    tracking.receive(source, messages, now=now)
    refused = [{"index": m.index, "messageId": m.message_id, "message": m.error} for m in messages if m.error]
    # A field skipped of an applied message (an invalid email) does not refuse it: Segment's 200.
    skipped = {"warnings": [{"index": m.index, "messageId": m.message_id, "message": w}
                            for m in messages if not m.error for w in m.warnings]}
    if not skipped["warnings"]:
        skipped = {}
    if refused:
        return _error(400, "invalid_messages", f"{len(refused)} of {len(messages)} messages were refused; "
                      "the others were accepted.", errors=refused, **skipped)
    return JsonResponse({"success": True, **skipped})
