#!/usr/bin/env python3
"""Helpers of imgfn-bench's backfill measurement (the harness links no HTTP client).

    backfill-bench.py seed --endpoint URL --bucket B --count N --photo FILE
        makes bucket B and puts N copies of FILE under uploads/ (each with its index appended
        after the image data, so every object has its own ETag); prints the keys, one a line
    backfill-bench.py counts --proxy URL
        the requests fault_proxy.py has seen, by method, as JSON; then clears its log

Credentials come from the environment (any values do for moto).
"""
import argparse
import concurrent.futures
import json
import sys
import urllib.request

import boto3


def seed(args):
    s3 = boto3.client("s3", endpoint_url=args.endpoint, region_name="us-east-1")
    s3.create_bucket(Bucket=args.bucket)
    photo = open(args.photo, "rb").read()
    keys = ["uploads/batch %d/photo-%d.jpg" % (i // 100, i) for i in range(args.count)]

    def put(index):
        s3.put_object(Bucket=args.bucket, Key=keys[index], Body=photo + b"imgfn bench %d" % index,
                      ContentType="image/jpeg")

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        list(pool.map(put, range(args.count)))
    sys.stdout.write("".join(key + "\n" for key in keys))


def counts(args):
    log = json.load(urllib.request.urlopen(args.proxy + "/__proxy/log"))
    by_method = {}
    for entry in log:
        by_method[entry["method"]] = by_method.get(entry["method"], 0) + 1
    urllib.request.urlopen(urllib.request.Request(args.proxy + "/__proxy/reset", data=b"", method="POST"))
    print(json.dumps(by_method, sort_keys=True))


parser = argparse.ArgumentParser()
commands = parser.add_subparsers(dest="command", required=True)
s = commands.add_parser("seed")
s.add_argument("--endpoint", required=True)
s.add_argument("--bucket", required=True)
s.add_argument("--count", type=int, required=True)
s.add_argument("--photo", required=True)
c = commands.add_parser("counts")
c.add_argument("--proxy", required=True)
args = parser.parse_args()
{"seed": seed, "counts": counts}[args.command](args)
