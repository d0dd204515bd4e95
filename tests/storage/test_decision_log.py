"""The decision log: stored before answering; each client has its own chain of decisions per contact,
and a submission identical to its chain's newest decision gets that decision back, anything else
supersedes the newest."""

import threading
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from api.storage.decision_log import decode_cursor

from .helpers import Chunk, contact, pending, record


def test_a_recorded_decision_can_be_read_back_whole(storage):
    entry = pending(contact())
    [answer] = record(storage, [entry])
    assert answer["decision_id"] == entry.decision_id
    stored = storage.decisions.get(entry.decision_id)
    assert stored["verdict"] == answer
    assert stored["contact_id"] == "c-1" and stored["home_region"] == "25"
    assert stored["reason"] == "DIGITAL_NOT_CONTRACTED" and stored["decision"] == "no_pay"
    assert stored["client"] == "test-client"
    assert stored["supersedes"] is None
    assert stored["policy"]["digest"] == answer["policy"]["digest"]
    assert [layer["id"] for layer in stored["policy"]["layers"]] == [
        layer["id"] for layer in answer["policy"]["layers"]
    ]
    assert stored["evaluated_at"] == answer["evaluated_at"]


def test_stored_json_is_text_in_the_database_with_swedish_letters_intact(storage):
    """Other tools read the log with SQL: the contact and verdict are JSON text (not blobs) on both
    databases, with the explanations' å, ä and ö as written."""
    entry = pending(contact("c-å", claimed_amount_sek="500.00"))
    [answer] = record(storage, [entry])
    assert any(letter in answer["explanation"]["sv"] for letter in "åäö")
    with storage.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            types = "typeof(contact), typeof(verdict)"
        else:
            types = "pg_typeof(contact)::text, pg_typeof(verdict)::text"
        row = conn.exec_driver_sql(
            f"SELECT {types}, contact, verdict FROM decisions WHERE decision_id = '{entry.decision_id}'"
        ).one()
    assert tuple(row[:2]) == ("text", "text")
    assert orjson.loads(row[3]) == answer and orjson.loads(row[2])["contact_id"] == "c-å"


def test_patient_age_is_stored_as_its_age_group_and_sex_is_kept(storage):
    entry = pending(contact(patient={"age": 34, "sex": "female"}))
    record(storage, [entry])
    stored = storage.decisions.get(entry.decision_id)
    assert stored["contact"]["patient"] == {"age": "19-39", "sex": "female"}
    assert "34" not in str(stored["contact"])
    # The rest of the contact is kept as received.
    assert stored["contact"]["claimed_amount_sek"] == "500.00"
    assert "setting" not in stored["contact"]


def test_an_identical_contact_sent_again_gets_the_original_decision(storage):
    first = pending(contact())
    [original] = record(storage, [first])
    later = pending(contact(), at=datetime.now(UTC) + timedelta(seconds=5))
    [again] = record(storage, [later])
    assert again["decision_id"] == first.decision_id
    assert again["evaluated_at"] == original["evaluated_at"]
    assert storage.decisions.get(later.decision_id) is None
    assert storage.decisions.count() == 1


def test_other_content_for_the_same_contact_supersedes_the_latest_decision(storage):
    first = pending(contact())
    record(storage, [first])
    second = pending(contact(claimed_amount_sek="400.00"))
    [answer] = record(storage, [second])
    assert answer["supersedes"] == first.decision_id
    third = pending(contact(claimed_amount_sek="300.00"))
    [answer3] = record(storage, [third])
    assert answer3["supersedes"] == second.decision_id
    assert storage.decisions.get(third.decision_id)["supersedes"] == second.decision_id
    # The same contact_id in another home region is another contact.
    other = pending(contact(home_region="24"))
    [answer4] = record(storage, [other])
    assert "supersedes" not in answer4


def test_a_return_to_earlier_content_is_a_new_decision_superseding_the_newest(storage):
    """A, then B, then A again: the newest decision is what the client sent last, and a retry of
    that last submission gets it back."""
    a = pending(contact())
    b = pending(contact(claimed_amount_sek="400.00"))
    a_again = pending(contact())
    [first], [second], [third] = (record(storage, [entry]) for entry in (a, b, a_again))
    assert third["decision_id"] == a_again.decision_id
    assert third["supersedes"] == b.decision_id == second["decision_id"]
    [retry] = record(storage, [pending(contact())])
    assert retry == third
    assert storage.decisions.get(a_again.decision_id)["supersedes"] == b.decision_id
    chain = storage.decisions.find(contact_id="c-1").items
    assert [(d["decision_id"], d["supersedes"]) for d in chain] == [
        (a.decision_id, None),
        (b.decision_id, a.decision_id),
        (a_again.decision_id, b.decision_id),
    ]
    assert first["decision_id"] == a.decision_id


def test_each_client_has_its_own_chain_and_never_sees_another_clients_decision(storage):
    """Two clients send the same contact: each gets its own decision, revision 1 of its own chain,
    and neither names the other's in `supersedes`. A by client 1, then A by client 2, then A again
    by client 1: client 1's first decision. Other content supersedes only the client's own."""
    [one_a] = record(storage, [pending(contact(), client="billing-1")])
    [two_a] = record(storage, [pending(contact(), client="billing-2")])
    assert two_a["decision_id"] != one_a["decision_id"]
    assert "supersedes" not in one_a and "supersedes" not in two_a
    assert record(storage, [pending(contact(), client="billing-1")]) == [one_a]
    assert record(storage, [pending(contact(), client="billing-2")]) == [two_a]
    [two_b] = record(storage, [pending(contact(claimed_amount_sek="9.00"), client="billing-2")])
    assert two_b["supersedes"] == two_a["decision_id"]
    assert record(storage, [pending(contact(), client="billing-1")]) == [one_a]  # still its newest
    [one_b] = record(storage, [pending(contact(claimed_amount_sek="9.00"), client="billing-1")])
    assert one_b["supersedes"] == one_a["decision_id"]
    stored = {
        d["decision_id"]: (d["client"], d["supersedes"])
        for d in storage.decisions.find(contact_id="c-1").items
    }
    assert stored == {
        one_a["decision_id"]: ("billing-1", None),
        two_a["decision_id"]: ("billing-2", None),
        two_b["decision_id"]: ("billing-2", two_a["decision_id"]),
        one_b["decision_id"]: ("billing-1", one_a["decision_id"]),
    }
    assert _revisions(storage) == {
        one_a["decision_id"]: 1,
        two_a["decision_id"]: 1,
        two_b["decision_id"]: 2,
        one_b["decision_id"]: 2,
    }


def test_a_batch_of_one_client_follows_its_own_chain_only(storage):
    """Another client's decisions of the same contacts, older and newer, change nothing in a batch:
    a line identical to the client's newest is answered with it, a changed line supersedes it, a
    contact only the other client sent is the first of this client's chain."""
    [mine] = record(storage, [pending(contact("x"), client="billing-1")])
    [theirs_x, theirs_y] = record(
        storage,
        [
            pending(contact("x", claimed_amount_sek="1.00"), client="billing-2"),
            pending(contact("y"), client="billing-2"),
        ],
    )
    changed, y = (
        pending(contact("x", claimed_amount_sek="2.00"), client="billing-1"),
        pending(contact("y"), client="billing-1"),
    )
    answers = record(storage, [pending(contact("x"), client="billing-1"), changed, y])
    assert answers[0] == mine
    assert (
        answers[1]["decision_id"] == changed.decision_id and answers[1]["supersedes"] == mine["decision_id"]
    )
    assert answers[2]["decision_id"] == y.decision_id != theirs_y["decision_id"]
    assert "supersedes" not in answers[2] and "supersedes" not in theirs_x


def test_a_batch_is_stored_in_order_with_repeats_and_supersessions_inside_it(storage):
    a = pending(contact("a"))
    a_again = pending(contact("a"))
    a_changed = pending(contact("a", claimed_amount_sek="100.00"))
    b = pending(contact("b"))
    answers = record(storage, [a, a_again, a_changed, b])
    assert answers[0]["decision_id"] == a.decision_id
    assert answers[1]["decision_id"] == a.decision_id
    assert answers[2]["decision_id"] == a_changed.decision_id
    assert answers[2]["supersedes"] == a.decision_id
    assert answers[3]["decision_id"] == b.decision_id
    assert storage.decisions.count() == 3
    # A, B, A in one batch: three decisions, each superseding the one before.
    x, x_changed, x_back = (
        pending(contact("x")),
        pending(contact("x", claimed_amount_sek="1.00")),
        pending(contact("x")),
    )
    answers = record(storage, [x, x_changed, x_back])
    assert [a["decision_id"] for a in answers] == [x.decision_id, x_changed.decision_id, x_back.decision_id]
    assert [a.get("supersedes") for a in answers] == [None, x.decision_id, x_changed.decision_id]


def test_concurrent_identical_submissions_produce_exactly_one_decision_per_client(storage):
    """Six transactions store the same 50 contacts at once, three for each of two clients: one
    decision per contact and client, the first of that client's chain."""
    clients = ("billing-1", "billing-2")
    entries = [[pending(contact(f"k-{i}"), client=clients[n % 2]) for i in range(50)] for n in range(6)]
    results = [None] * len(entries)
    errors = []
    start = threading.Barrier(len(entries))

    def submit(n):
        try:
            start.wait(timeout=10)
            results[n] = record(storage, entries[n])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(len(entries))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert storage.decisions.count() == 100
    for i in range(50):
        per_client = [{result[i]["decision_id"] for result in results[c::2]} for c in range(2)]
        assert [len(ids) for ids in per_client] == [1, 1], f"contact k-{i} got {per_client}"
        assert per_client[0] != per_client[1]
        for c, ids in enumerate(per_client):
            stored = storage.decisions.get(ids.pop())
            assert stored["client"] == clients[c] and stored["supersedes"] is None


def test_concurrent_different_submissions_for_one_contact_form_one_chain(storage):
    """Six transactions each store other content for the same 50 contacts at once: every one is a
    decision, and each contact's decisions form one chain (each superseded at most once, one
    first), never two decisions naming the same one."""
    writers = 6
    entries = [
        [pending(contact(f"k-{i}", claimed_amount_sek=f"{n}.00")) for i in range(50)] for n in range(writers)
    ]
    results = [None] * writers
    errors = []
    start = threading.Barrier(writers)

    def submit(n):
        try:
            start.wait(timeout=10)
            results[n] = record(storage, entries[n])
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert storage.decisions.count() == 50 * writers
    for i in range(50):
        assert {result[i]["decision_id"] for result in results} == {e[i].decision_id for e in entries}
        stored = storage.decisions.find(contact_id=f"k-{i}").items
        supersedes = [d["supersedes"] for d in stored]
        assert supersedes.count(None) == 1
        assert len(set(supersedes)) == writers, f"k-{i} forked: {supersedes}"
        ids = {d["decision_id"] for d in stored}
        assert set(supersedes) - {None} < ids


def test_decisions_are_listed_by_filter_with_cursor_pagination(storage):
    base = datetime(2024, 1, 1, 12, tzinfo=UTC)
    entries = []
    for i in range(25):
        region = "25" if i % 2 == 0 else "24"
        entries.append(pending(contact(f"p-{i:02d}", home_region=region), at=base + timedelta(minutes=i)))
    for entry in entries:
        record(storage, [entry])

    seen, cursor = [], None
    for _ in range(10):
        page = storage.decisions.find(home_region="25", limit=5, cursor=cursor)
        seen.extend(item["contact_id"] for item in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"p-{i:02d}" for i in range(0, 25, 2)]

    window = storage.decisions.find(
        evaluated_from=base + timedelta(minutes=3), evaluated_to=base + timedelta(minutes=5)
    )
    assert [item["contact_id"] for item in window.items] == ["p-03", "p-04", "p-05"]
    assert window.next_cursor is None

    assert [i["contact_id"] for i in storage.decisions.find(contact_id="p-07").items] == ["p-07"]
    by_reason = storage.decisions.find(reason="DIGITAL_NOT_CONTRACTED", limit=1000).items
    assert len(by_reason) == 13  # region 25 has the digital stop; 24 pays the digital tariff
    assert storage.decisions.find(reason="DIGITAL_TARIFF", limit=1000).items[0]["home_region"] == "24"
    assert storage.decisions.find(contact_date_from=datetime(2022, 3, 2).date()).items == []


def test_a_malformed_cursor_is_refused():
    with pytest.raises(ValueError):
        decode_cursor("not-a-cursor")


def test_supersedes_is_added_to_the_serialised_verdict_as_a_dict_would_be():
    from api.storage.decision_log import with_supersedes

    body = {"decision_id": "d-2", "contact_id": "c-1", "explanation": {"sv": "Vård ”utförd”", "en": "x"}}
    spliced = with_supersedes(orjson.dumps(body), "d-1")
    assert spliced == orjson.dumps(dict(body, supersedes="d-1"))
    with pytest.raises(ValueError):
        with_supersedes(b"[1]", "d-1")


def test_a_submission_stored_first_by_another_transaction_is_answered_and_superseded_rightly(
    storage, monkeypatch
):
    """The race on PostgreSQL, played out in order: another transaction commits an identical
    contact after this one looked (the first lookup here sees nothing). The stored decision is
    answered, and a changed contact in the same call supersedes that one, never an unstored id."""
    [first] = record(storage, [pending(contact("race"))])
    _first_lookup_sees_nothing(monkeypatch)
    again, changed = pending(contact("race")), pending(contact("race", claimed_amount_sek="10.00"))
    answers = record(storage, [again, changed])
    assert answers[0] == first
    assert answers[1]["supersedes"] == first["decision_id"]
    stored = {d["decision_id"] for d in storage.decisions.find(contact_id="race").items}
    assert stored == {first["decision_id"], changed.decision_id}


def test_a_race_lost_on_one_contact_of_a_round_leaves_the_others_stored(storage, monkeypatch):
    """Several contacts in one round, one of them stored first by another transaction: that one is
    answered with the stored decision, the others with their own, each stored once."""
    [first] = record(storage, [pending(contact("race-a"))])
    _first_lookup_sees_nothing(monkeypatch)
    entries = [pending(contact("race-a")), pending(contact("race-b")), pending(contact("race-c"))]
    answers = record(storage, entries)
    assert answers[0] == first
    assert [a["decision_id"] for a in answers[1:]] == [e.decision_id for e in entries[1:]]
    assert storage.decisions.count() == 3


def test_other_content_stored_first_by_another_transaction_is_superseded_not_forked(storage, monkeypatch):
    """The race on PostgreSQL with other content: another transaction stored this contact's first
    decision after this one looked. This one becomes the next decision, superseding that one."""
    [first] = record(storage, [pending(contact("race"))])
    _first_lookup_sees_nothing(monkeypatch)
    changed = pending(contact("race", claimed_amount_sek="10.00"))
    [answer] = record(storage, [changed])
    assert answer["decision_id"] == changed.decision_id
    assert answer["supersedes"] == first["decision_id"]
    assert storage.decisions.get(changed.decision_id)["supersedes"] == first["decision_id"]
    assert storage.decisions.count() == 2


def test_a_race_lost_in_a_chunk_is_settled_before_the_next_chunk_is_stored(storage, monkeypatch):
    """A batch's chunks (record_chunks: on PostgreSQL a chunk's COPY is still open while the next
    chunk is drawn, and the race lost fails it), a contact of the first stored first by another
    transaction: it is answered with that decision, the others of the chunk with their own, and
    other content for it in the next chunk supersedes that decision."""
    [first] = record(storage, [pending(contact("race-a"))])
    _first_lookup_sees_nothing(monkeypatch)
    again, other = pending(contact("race-a")), pending(contact("race-b"))
    changed = pending(contact("race-a", claimed_amount_sek="10.00"))
    with storage.decisions.transaction() as transaction:
        stored = transaction.record_chunks(iter([Chunk([again, other]), Chunk([changed])]))
        answers = [[orjson.loads(text) for text in texts] for _, texts in stored]
    assert answers[0][0] == first
    assert answers[0][1]["decision_id"] == other.decision_id
    assert answers[1][0]["decision_id"] == changed.decision_id
    assert answers[1][0]["supersedes"] == first["decision_id"]
    assert storage.decisions.count() == 3


def _first_lookup_sees_nothing(monkeypatch) -> None:
    """The next lookup of the log answers as if it had run before another transaction committed."""
    from api.storage import decision_log

    real, calls = decision_log.Transaction._newest, []

    def too_early(self, entries):
        calls.append(entries)
        return {} if len(calls) == 1 else real(self, entries)

    monkeypatch.setattr(decision_log.Transaction, "_newest", too_early)


def _revisions(storage) -> dict[str, int]:
    with storage.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT decision_id, revision FROM decisions").all())
