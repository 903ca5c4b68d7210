"""Tokens from the CLI, and single GraphQL requests for the checks before and after load."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bench.checks import BenchAborted

FIELDGATE_CLI = Path(sys.executable).with_name("fieldgate")


def issue_token(subject: str, env: Mapping[str, str]) -> str:
    """``fieldgate token issue --sub SUBJECT`` against the bench database."""
    done = subprocess.run(
        [str(FIELDGATE_CLI), "token", "issue", "--sub", subject, "--ttl", "2h"],
        env=dict(env),
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise BenchAborted(f"token issue --sub {subject} failed: {done.stderr.strip()[-300:]}")
    return done.stdout.strip()


def request_body(query: str, variables: Mapping[str, Any] | None = None) -> str:
    """The JSON body of one GraphQL POST."""
    document: dict[str, Any] = {"query": query}
    if variables:
        document["variables"] = dict(variables)
    return json.dumps(document, ensure_ascii=False)


def post(url: str, body: str, token: str) -> dict[str, Any]:
    """POST one operation; the decoded response (HTTP errors included)."""
    request = urllib.request.Request(
        url,
        data=body.encode(),
        headers={"content-type": "application/json", "authorization": f"Bearer {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            answer: dict[str, Any] = json.loads(response.read())
    except urllib.error.HTTPError as refused:
        raise BenchAborted(f"{url} answered HTTP {refused.code}") from None
    return answer


def error_codes(answer: Mapping[str, Any]) -> list[str]:
    """The ``extensions.code`` of every error entry, in order."""
    return [str((e.get("extensions") or {}).get("code")) for e in answer.get("errors") or ()]
