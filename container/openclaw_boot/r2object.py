"""PUT one small, non-secret JSON object into the backup bucket over R2's S3 API (SigV4, stdlib).

The Worker reads it through its R2 binding without waking the container (worker/src/cron.ts);
restic's repository lives under `openclaw-edge/`, these objects under `openclaw-edge-status/`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from collections.abc import Mapping
from datetime import datetime, timezone
from urllib.parse import quote, urlsplit

from .settings import r2_location

STATUS_PREFIX = "openclaw-edge-status/"
REGION = "auto"  # R2's SigV4 region (moto accepts any)


class PutError(RuntimeError):
    """The PUT failed; the message holds no credential."""


endpoint_and_bucket = r2_location


def _sign(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def put_json(env: Mapping[str, str], key: str, payload: object, timeout: float = 15) -> None:
    """PUT `payload` as `<bucket>/<key>` (path-style URL, as restic uses the endpoint)."""
    target = endpoint_and_bucket(env)
    if target is None:
        raise PutError("R2 is not configured (R2_BUCKET_NAME, R2_ENDPOINT/CF_ACCOUNT_ID, keys)")
    endpoint, bucket = target
    body = json.dumps(payload, sort_keys=True).encode()
    parts = urlsplit(endpoint)
    path = f"{parts.path.rstrip('/')}/{quote(bucket)}/{quote(key)}"
    now = datetime.now(timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    headers = {
        "content-type": "application/json",
        "host": parts.netloc,
        "x-amz-content-sha256": payload_hash,
        "x-amz-date": amz_date,
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "PUT",
            path,
            "",
            "".join(f"{name}:{headers[name]}\n" for name in sorted(headers)),
            signed,
            payload_hash,
        ]
    )
    scope = f"{day}/{REGION}/s3/aws4_request"
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    secret = env.get("R2_SECRET_ACCESS_KEY", "").strip()
    signing_key = _sign(f"AWS4{secret}".encode(), day)
    for part in (REGION, "s3", "aws4_request"):
        signing_key = _sign(signing_key, part)
    signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
    access_key = env.get("R2_ACCESS_KEY_ID", "").strip()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, "
        f"Signature={signature}"
    )
    if parts.scheme not in {"http", "https"}:
        raise PutError(f"R2_ENDPOINT must be an http(s) URL, got scheme {parts.scheme!r}")
    request = urllib.request.Request(  # noqa: S310 - scheme checked above
        f"{parts.scheme}://{parts.netloc}{path}",
        data=body,
        method="PUT",
        headers={name: value for name, value in headers.items() if name != "host"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            response.read()
    except urllib.error.HTTPError as exc:
        raise PutError(f"PUT {key} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise PutError(f"PUT {key} failed: {getattr(exc, 'reason', exc)}") from None
