"""GET /health, /ready, /metrics; and the issuing hooks storage plugs into."""

import time
import uuid

from api import issuing
from api.readiness import add_readiness_check


def test_health_is_ok(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_ready_lists_its_checks(client, policy):
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["policy"] == "ok"
    assert body["policy_rules_digest"] == policy.rules_digest


def test_ready_is_503_when_a_check_fails_and_hides_the_message(make_app, caplog):
    app = make_app()

    def storage_down():
        raise ConnectionError("db.internal:5432 refused, password=hunter2")

    add_readiness_check(app, "storage", storage_down)
    response = app.test_client().get("/ready")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["checks"]["storage"] == "failing: ConnectionError"
    assert body["checks"]["policy"] == "ok"
    assert "hunter2" not in response.get_data(as_text=True)


def _metric(text: str, name: str, **labels) -> float:
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            if all(f'{key}="{value}"' in line for key, value in labels.items()):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_count_requests_and_verdicts_by_reason(client, contact):
    before = client.get("/metrics").get_data(as_text=True)
    contact["contact_id"] = f"metrics-{uuid.uuid4()}"
    other = dict(contact, contact_id=f"metrics-{uuid.uuid4()}")
    client.post("/v1/verdicts", json=contact)
    client.post("/v1/verdicts/batch", json={"contacts": [other, {"bad": 1}]})
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    after = response.get_data(as_text=True)
    reason = {"reason": "DIGITAL_NOT_CONTRACTED", "decision": "no_pay"}
    assert (
        _metric(after, "utomlans_verdicts_total", **reason)
        - _metric(before, "utomlans_verdicts_total", **reason)
        == 2
    )
    assert (
        _metric(after, "utomlans_rejected_contacts_total")
        - _metric(before, "utomlans_rejected_contacts_total")
        == 1
    )
    route = {"endpoint": "/v1/verdicts", "method": "POST", "status": "200"}
    assert (
        _metric(after, "utomlans_http_requests_total", **route)
        - _metric(before, "utomlans_http_requests_total", **route)
        == 1
    )
    assert "utomlans_http_request_duration_seconds_bucket" in after


def test_metrics_count_a_resubmission_answered_with_its_stored_decision_apart(client, contact):
    """A retry is not a new decision: it is counted under utomlans_replayed_verdicts_total."""
    contact["contact_id"] = f"replay-{uuid.uuid4()}"
    changed = dict(contact, claimed_amount_sek="10.00")
    fresh = dict(contact, contact_id=f"replay-{uuid.uuid4()}")
    before = client.get("/metrics").get_data(as_text=True)
    first = client.post("/v1/verdicts", json=contact).get_json()
    again = client.post("/v1/verdicts", json=contact).get_json()
    assert again["decision_id"] == first["decision_id"]
    # In a batch: `contact` sent before, `fresh` twice in the batch itself, `changed` is new content.
    batch = client.post("/v1/verdicts/batch", json={"contacts": [contact, fresh, fresh, changed]}).get_json()
    ids = [verdict["decision_id"] for verdict in batch["verdicts"]]
    assert ids[0] == first["decision_id"] and ids[1] == ids[2] and len(set(ids)) == 3
    after = client.get("/metrics").get_data(as_text=True)
    reason = {"reason": "DIGITAL_NOT_CONTRACTED", "decision": "no_pay"}
    made = _metric(after, "utomlans_verdicts_total", **reason) - _metric(
        before, "utomlans_verdicts_total", **reason
    )
    replayed = _metric(after, "utomlans_replayed_verdicts_total") - _metric(
        before, "utomlans_replayed_verdicts_total"
    )
    assert (made, replayed) == (3, 3)  # first, fresh, changed; again and the two repeats in the batch


def test_unmatched_paths_share_one_metrics_label(client):
    client.get("/no/such/path/1")
    client.get("/no/such/path/2")
    text = client.get("/metrics").get_data(as_text=True)
    assert 'endpoint="unmatched"' in text
    assert "/no/such/path" not in text


def test_decision_ids_are_unique_time_ordered_version_7_uuids():
    before = time.time_ns() // 1_000_000
    ids = issuing.new_decision_ids(1000)
    made_in = int(ids[-1].replace("-", "")[:12], 16)
    while time.time_ns() // 1_000_000 <= made_in:  # the next millisecond
        pass
    later = issuing.new_decision_ids(1)
    assert len(set(ids)) == 1000
    for value in ids[:50]:
        parsed = uuid.UUID(value)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122 and str(parsed) == value
        assert int(parsed.hex[:12], 16) >= before  # the millisecond it was made
    assert later[0] > max(ids)  # a later id sorts after (so the index grows at its end)
