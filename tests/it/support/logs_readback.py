#!/usr/bin/env python3
"""Prints every event of one CloudWatch Logs stream held by moto, oldest first, as a JSON list
of {"timestamp": epoch_ms, "message": str}.

Usage: logs_readback.py --endpoint MOTO_URL --group GROUP --stream STREAM [--region REGION]

boto3 talks to moto directly. GetLogEvents pages forward until the token stops changing (the
documented end of a stream), so nothing past the first page is missed.
"""
import argparse
import json
import sys

import boto3


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--stream", required=True)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()

    logs = boto3.client(
        "logs",
        endpoint_url=args.endpoint,
        region_name=args.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    events = []
    request = {"logGroupName": args.group, "logStreamName": args.stream, "startFromHead": True}
    while True:
        page = logs.get_log_events(**request)
        events.extend({"timestamp": e["timestamp"], "message": e["message"]} for e in page["events"])
        token = page.get("nextForwardToken")
        if not token or token == request.get("nextToken"):
            break
        request["nextToken"] = token
    json.dump(events, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
