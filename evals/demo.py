"""Post demo tickets to a running server as signed Standard Webhooks and print their outcomes."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import httpx

from tools.signing import sign_standard

DONE = {"done", "awaiting_review", "handed_off", "failed", "writeback_failed"}


def signed_headers(secret: str, body: bytes, msg_id: str | None = None) -> dict[str, str]:
    msg_id = msg_id or f"msg_{uuid.uuid4().hex}"
    ts = int(time.time())
    return {
        "content-type": "application/json",
        "webhook-id": msg_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": sign_standard(secret, msg_id, ts, body),
    }


def run_demo(base: str, file: Path, limit: int, secret: str, api_key: str, timeout: float) -> bool:
    rows = [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()][:limit]
    sent: dict[str, dict[str, object]] = {}
    with httpx.Client(base_url=base, timeout=30) as client:
        for row in rows:
            payload = {
                k: row[k] for k in ("subject", "body", "requester", "customer", "language", "product") if k in row
            }
            payload["external_id"] = str(row.get("id") or row.get("external_id"))
            body = json.dumps(payload, ensure_ascii=False).encode()
            r = client.post("/webhooks/generic", content=body, headers=signed_headers(secret, body))
            if r.status_code not in (200, 202):
                print(f"{payload['external_id']}: HTTP {r.status_code} {r.text}")
                return False
            sent[r.json()["ticket_id"]] = row
            print(f"sent {payload['external_id']:6} -> ticket {r.json()['ticket_id']}  ({r.status_code})")
        print(f"\nwaiting for {len(sent)} ticket(s) (GET /tickets/{{id}})…\n")
        results: dict[str, dict[str, object]] = {}
        deadline = time.monotonic() + timeout
        auth = {"authorization": f"Bearer {api_key}"}
        while len(results) < len(sent) and time.monotonic() < deadline:
            for tid in sent:
                if tid in results:
                    continue
                got = client.get(f"/tickets/{tid}", headers=auth).json()
                if got.get("status") in DONE:
                    results[tid] = got
                    row = sent[tid]
                    gold = (row.get("gold") or {}).get("outcome", "?")  # type: ignore[union-attr]
                    decision = got.get("decision") or {}
                    triage = got.get("triage") or {}
                    cat = (triage.get("category") or {}).get("value")
                    print(
                        f"{row.get('id')!s:6} {got['status']:16} action={decision.get('action')!s:13} "
                        f"gold={gold:13} category={cat}  {str(row.get('subject'))[:50]}"
                    )
                    reply = got.get("reply")
                    if reply:
                        text = str(reply["text"]).replace("\n", " ")
                        print(f"       reply cites {reply['citations']}: {text[:160]}…")
            time.sleep(0.5)
    if len(results) < len(sent):
        print(f"timed out: {len(sent) - len(results)} ticket(s) not finished after {timeout:.0f}s")
        return False
    return True
