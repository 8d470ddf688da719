#!/usr/bin/env python3
"""Signs S3 requests with botocore's S3SigV4Auth, for BotocoreComparisonTests.

Reads one JSON document on stdin:
  {"credentials": {"access_key": ..., "secret_key": ..., "token": ...},
   "timestamp": "20240315T102030Z",
   "requests": [{"region": ..., "endpoint": "http(s)://host[:port]" (absent: AWS),
                 "path_style": bool, "bucket": ..., "key": ... (absent: the bucket),
                 "query": [[name, value], ...], "method": ...,
                 "headers": [[name, value], ...], "body_base64": ..., "unsigned_payload": bool}]}
and prints a JSON list with, per request, the URL botocore built and the headers it signed.

The URL is built here the way botocore's S3 serializer does (the key percent-encoded with
`safe='/~'`, the query with `percent_encode_sequence`), independently of the Swift code.
"""
import base64
import datetime
import json
import sys
import types

import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.utils import percent_encode, percent_encode_sequence


class RecordingS3SigV4Auth(botocore.auth.S3SigV4Auth):
    """S3SigV4Auth that keeps the canonical request it signed, for failure messages."""

    def string_to_sign(self, request, canonical_request):
        self.signed_canonical_request = canonical_request
        return super().string_to_sign(request, canonical_request)


def build_url(request):
    bucket, key = request["bucket"], request.get("key")
    region = request["region"]
    endpoint = request.get("endpoint") or f"https://s3.{region}.amazonaws.com"
    scheme, host = endpoint.split("://", 1)
    host = host.rstrip("/")
    if request["path_style"]:
        path = "/" + percent_encode(bucket)
        if key is not None:
            path += "/" + percent_encode(key, safe="/~")
    else:
        host = f"{bucket}.{host}"
        path = "/" + (percent_encode(key, safe="/~") if key is not None else "")
    url = f"{scheme}://{host}{path}"
    if request["query"]:
        url += "?" + percent_encode_sequence([tuple(pair) for pair in request["query"]])
    return url


def sign(document, request):
    fixed = datetime.datetime.strptime(document["timestamp"], "%Y%m%dT%H%M%SZ")
    botocore.auth.get_current_datetime = lambda *args, **kwargs: fixed
    creds = document["credentials"]
    credentials = Credentials(creds["access_key"], creds["secret_key"], creds.get("token"))
    body = base64.b64decode(request["body_base64"])
    aws_request = AWSRequest(method=request["method"], url=build_url(request), data=body or None)
    for name, value in request["headers"]:
        aws_request.headers[name] = value
    if body:
        # As the Swift store does: a PUT body goes with its length, signed.
        aws_request.headers["Content-Length"] = str(len(body))
    if request["unsigned_payload"]:
        aws_request.context["client_config"] = types.SimpleNamespace(s3={"payload_signing_enabled": False})
    auth = RecordingS3SigV4Auth(credentials, "s3", request["region"])
    auth.add_auth(aws_request)
    return {
        "url": aws_request.url,
        "canonical_request": auth.signed_canonical_request,
        "headers": {name.lower(): value for name, value in aws_request.headers.items()},
    }


def main():
    document = json.load(sys.stdin)
    json.dump([sign(document, request) for request in document["requests"]], sys.stdout)


if __name__ == "__main__":
    main()
