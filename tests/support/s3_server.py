"""A real S3-compatible server on loopback: moto_server in its own process.

It checks every request's Signature V4 and every key's IAM policy, like a
hosted bucket would. Two keys are made before checking starts: the
appliance's, allowed only what an offsite copy needs, and an inspector's,
allowed everything, for tests to look at what landed.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import httpx

from tests.support.network import free_port
from tests.support.waiting import wait_until

BUCKET = "shop-backups"
REGION = "us-east-1"
# What the README tells operators to grant, and nothing more.
OFFSITE_ACTIONS = ["s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"]


@dataclass(frozen=True)
class S3Key:
    access_key: str
    secret_key: str


@dataclass(frozen=True)
class S3Server:
    endpoint: str
    bucket: str
    appliance: S3Key
    inspector: S3Key

    def inspector_client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.inspector.access_key,
            aws_secret_access_key=self.inspector.secret_key,
            region_name=REGION,
        )


@contextlib.contextmanager
def running_s3_server(log_path: Path) -> Iterator[S3Server]:
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto_server = Path(sys.executable).with_name("moto_server")
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [str(moto_server), "-H", "127.0.0.1", "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={"PATH": os.environ["PATH"]},
        )
    try:
        wait_until(lambda: answers(port), timeout=30, message="moto_server up")
        yield prepare(endpoint)
    finally:
        process.terminate()
        process.wait(timeout=10)


def answers(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def prepare(endpoint: str) -> S3Server:
    """Make the keys and the bucket, then turn signature checks on."""
    anyone = {"aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
    iam = boto3.client("iam", endpoint_url=endpoint, region_name=REGION, **anyone)
    appliance = make_key(
        iam, "appliance", OFFSITE_ACTIONS, f"arn:aws:s3:::{BUCKET}/customer-service/*"
    )
    inspector = make_key(iam, "inspector", ["s3:*"], "*")
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION, **anyone)
    s3.create_bucket(Bucket=BUCKET)
    # Zero requests go unchecked from now on.
    httpx.post(
        f"{endpoint}/moto-api/reset-auth",
        content=b"0",
        headers={"content-type": "text/plain"},
        timeout=10,
    ).raise_for_status()
    return S3Server(endpoint, BUCKET, appliance, inspector)


def make_key(iam, user: str, actions: list[str], resource: str) -> S3Key:
    iam.create_user(UserName=user)
    policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": actions, "Resource": resource}],
    }
    iam.put_user_policy(
        UserName=user, PolicyName="offsite", PolicyDocument=json.dumps(policy)
    )
    made = iam.create_access_key(UserName=user)["AccessKey"]
    return S3Key(made["AccessKeyId"], made["SecretAccessKey"])
