"""The local stack's DynamoDB: a moto server in a process of its own, stopped with the stack."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from devstack.stack.embedded import EmbeddedDynamo, _answers_http

SIGTERMED_STACK = """
import contextlib, os, signal, sys, time
from pathlib import Path
from devstack.__main__ import _stop_like_ctrl_c
from devstack.stack.bring_up import LocalStack

signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
stack = LocalStack(state_dir=Path(sys.argv[1]))
try:
    stack.prepare_environment(8000)
    print(stack._started[-1].process.pid, os.environ["DYNAMODB_ENDPOINT_URL"], flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        while True:
            time.sleep(0.1)
finally:
    stack.stop()
"""

KILLED_STACK = """
import os, sys
from devstack.stack.embedded import EmbeddedDynamo
dynamo = EmbeddedDynamo()
dynamo.start()
print(dynamo.process.pid, flush=True)
os._exit(0)  # no stop(): as if killed
"""


def is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (exited, not yet reaped by its parent) counts as stopped.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


def wait_until_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not is_running(pid):
            return True
        time.sleep(0.1)
    return False


def client_for(url: str) -> Any:
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )


@pytest.fixture
def dynamo(tmp_path: Path) -> Iterator[EmbeddedDynamo]:
    server = EmbeddedDynamo(log_file=tmp_path / "dynamodb.log")
    yield server
    server.stop()


def test_runs_in_a_process_of_its_own_and_stops_with_it(
    dynamo: EmbeddedDynamo, tmp_path: Path
) -> None:
    threads_before = {thread.name for thread in threading.enumerate()}
    url = dynamo.start()

    process = dynamo.process
    assert process is not None
    assert process.pid != os.getpid()
    assert process.poll() is None
    assert {thread.name for thread in threading.enumerate()} == threads_before
    client = client_for(url)
    client.create_table(
        TableName="t",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    assert client.list_tables()["TableNames"] == ["t"]
    # Quiet: no banner, no line per request.
    assert (tmp_path / "dynamodb.log").read_text() == ""

    dynamo.stop()

    assert process.returncode is not None
    assert dynamo.process is None
    assert not _answers_http(dynamo.port)
    dynamo.stop()  # again: nothing to do


@contextlib.contextmanager
def port_in_use() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port: int = sock.getsockname()[1]
        yield port


def test_a_server_that_cannot_start_is_reported(tmp_path: Path) -> None:
    with port_in_use() as port:
        server = EmbeddedDynamo(port=port, log_file=tmp_path / "dynamodb.log")
        with pytest.raises(RuntimeError, match="moto server exited"):
            server.start()
    assert server.process is None
    assert "in use" in (tmp_path / "dynamodb.log").read_text().lower()


def test_sigterm_to_the_stack_stops_the_server(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": "postgresql://unused@127.0.0.1/unused",  # no embedded PostgreSQL
        "BOOTSTRAP_ADMIN_EMAIL": "admin@example.com",
        "BOOTSTRAP_ADMIN_PASSWORD": "not used here",
    }
    env.pop("DYNAMODB_ENDPOINT_URL", None)
    stack = subprocess.Popen(  # noqa: S603
        [sys.executable, "-c", SIGTERMED_STACK, str(tmp_path)],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert stack.stdout is not None
        pid, url = stack.stdout.readline().split()
        assert int(pid) != stack.pid
        assert is_running(int(pid))
        # The stack made the platform's tables in it.
        assert "coupon-audit" in client_for(url).list_tables()["TableNames"]

        stack.send_signal(signal.SIGTERM)
        assert stack.wait(timeout=20) == 0
        assert wait_until_gone(int(pid), timeout=1)
    finally:
        if stack.poll() is None:
            stack.kill()
            stack.wait()


def test_the_server_exits_when_the_stack_dies_without_stopping_it() -> None:
    parent = subprocess.run(  # noqa: S603
        [sys.executable, "-c", KILLED_STACK],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    pid = int(parent.stdout.split()[0])
    try:
        assert wait_until_gone(pid, timeout=10)
    finally:
        if is_running(pid):
            os.kill(pid, signal.SIGKILL)
