"""Issue 16 items 3 and 6: a key scoped to regions reads only the decisions whose home_region or
care_region is one of them: by id (404 for another's, as for none), lists, the feed and
re-adjudication; a home_region filter outside them is a 403. A "*" key and open mode read every
decision. SQLite and PostgreSQL."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from api.storage import Storage
from api.storage.decision_feed import SCAN, decode_token
from api.storage.tables import decision_commits, decisions

from .helpers import api_keys, contact

KEYS = {
    "national": ("s3cret-national", "*", "verdicts,decisions:read"),
    "norrbotten": ("s3cret-norrbotten", "25", "decisions:read"),
    "north": ("s3cret-north", "24,25", "decisions:read"),
    "auditor": ("s3cret-auditor", "*", "audit:read"),
}
API_KEYS = api_keys(KEYS)


def bearer(name):
    return {"Authorization": f"Bearer {KEYS[name][0]}"}


# (contact_id, home_region, care_region) as the national key sends them, in this order: decisions
# for Norrbotten's residents, Stockholm's, Stockholm's cared for in Norrbotten, and in-region care.
SENT = [
    ("n-1", "25", "06"),
    ("s-1", "01", "06"),
    ("s-care-25", "01", "25"),
    ("n-2", "25", "06"),
    ("s-2", "01", "06"),
    ("n-home", "25", "25"),
    ("s-3", "01", "13"),
    ("x-24", "24", "01"),
]


def visible_to(regions: set[str]) -> list[str]:
    return [cid for cid, home, care in SENT if home in regions or care in regions]


@pytest.fixture
def keyed(make_app):
    """An app with the keys above and SENT decided by the national key: {contact_id: decision_id}."""
    client = make_app(API_KEYS=API_KEYS).test_client()
    ids = {}
    for n, (contact_id, home, care) in enumerate(SENT):
        line = contact(contact_id, home_region=home, care_region=care)
        if n % 2:
            answer = client.post("/v1/verdicts", json=line, headers=bearer("national"))
            assert answer.status_code == 200, answer.json
            ids[contact_id] = answer.json["decision_id"]
        else:  # half of them in batches: the feed reads them by commit
            answer = client.post("/v1/verdicts/batch", json={"contacts": [line]}, headers=bearer("national"))
            assert answer.status_code == 200, answer.json
            ids[contact_id] = answer.json["verdicts"][0]["decision_id"]
    return client, ids


def listed(client, key, limit=3, **query):
    """Every page of GET /v1/decisions for the key: the contact_ids in order."""
    found, cursor = [], None
    while True:
        params = dict(query, limit=limit, **({"cursor": cursor} if cursor else {}))
        page = client.get("/v1/decisions", query_string=params, headers=bearer(key))
        assert page.status_code == 200, page.json
        found += [item["contact_id"] for item in page.json["items"]]
        cursor = page.json["next_cursor"]
        if cursor is None:
            return found


def fed(client, key, after=None, limit=2):
    """The feed from `after` until a page comes back empty: (contact_ids, the last token)."""
    found, token = [], after
    while True:
        page = client.get(
            "/v1/decisions/feed",
            query_string={"limit": limit, **({"after": token} if token else {})},
            headers=bearer(key),
        )
        assert page.status_code == 200, page.json
        found += [item["contact_id"] for item in page.json["items"]]
        if not page.json["items"]:
            return found, page.json["next"]
        token = page.json["next"]


def test_a_regional_key_reads_by_id_only_decisions_of_its_home_or_care_region(keyed):
    client, ids = keyed
    mine = visible_to({"25"})
    assert mine == ["n-1", "s-care-25", "n-2", "n-home"]
    for contact_id, decision_id in ids.items():
        answer = client.get(f"/v1/decisions/{decision_id}", headers=bearer("norrbotten"))
        if contact_id in mine:
            assert answer.status_code == 200 and answer.json["contact_id"] == contact_id
            continue
        # Another region's decision is answered as one that does not exist: its existence is not revealed.
        unknown = client.get(
            "/v1/decisions/00000000-0000-4000-8000-000000000000", headers=bearer("norrbotten")
        )
        assert answer.status_code == unknown.status_code == 404
        assert answer.mimetype == unknown.mimetype == "application/problem+json"
        assert answer.json["detail"] == unknown.json["detail"].replace(
            "00000000-0000-4000-8000-000000000000", decision_id
        )
        national = client.get(f"/v1/decisions/{decision_id}", headers=bearer("national"))
        assert national.status_code == 200


def test_a_regional_key_lists_only_its_decisions_page_by_page(keyed):
    client, _ = keyed
    assert listed(client, "national") == [cid for cid, *_ in SENT]
    assert listed(client, "norrbotten") == visible_to({"25"})
    assert listed(client, "north", limit=2) == visible_to({"24", "25"})
    assert listed(client, "norrbotten", home_region="25") == ["n-1", "n-2", "n-home"]
    assert listed(client, "norrbotten", contact_id="s-care-25") == ["s-care-25"]
    assert listed(client, "norrbotten", contact_id="s-1") == []  # as for a contact never sent
    assert listed(client, "norrbotten", reason=_reason(client, "n-2")) == [
        cid for cid in visible_to({"25"}) if _reason(client, cid) == _reason(client, "n-2")
    ]


def _reason(client, contact_id) -> str:
    [item] = client.get(f"/v1/decisions?contact_id={contact_id}", headers=bearer("national")).json["items"]
    return item["reason"]


@pytest.mark.parametrize("key", ["norrbotten", "north"])
def test_a_home_region_outside_the_keys_regions_is_403_naming_them(keyed, key):
    client, _ = keyed
    answer = client.get("/v1/decisions?home_region=01", headers=bearer(key))
    assert answer.status_code == 403 and answer.mimetype == "application/problem+json"
    assert "home_region '01' is not one of them" in answer.json["detail"]
    assert f"acts for {'region 25' if key == 'norrbotten' else 'regions 24, 25'}" in answer.json["detail"]
    readjudication = client.post(
        "/v1/simulations/readjudication",
        json={"scenario": "national_only", "home_region": "01"},
        headers=bearer(key),
    )
    assert readjudication.status_code == 403 and readjudication.mimetype == "application/problem+json"


def test_a_regional_keys_feed_holds_only_its_decisions_and_its_tokens_work_for_any_key(keyed):
    client, _ = keyed
    every, national_end = fed(client, "national")
    assert every == [cid for cid, *_ in SENT]
    mine, token = fed(client, "norrbotten", limit=1)
    assert mine == visible_to({"25"})
    assert fed(client, "north")[0] == visible_to({"24", "25"})
    assert decode_token(token) == decode_token(national_end)  # it read to the end of the log
    later = client.post("/v1/verdicts", json=contact("n-later", home_region="25"), headers=bearer("national"))
    assert later.status_code == 200
    other = client.post("/v1/verdicts", json=contact("s-later", home_region="01"), headers=bearer("national"))
    assert other.status_code == 200
    assert fed(client, "norrbotten", token)[0] == ["n-later"]
    assert fed(client, "national", token)[0] == ["n-later", "s-later"]  # the same token, every region's


def test_readjudication_reads_only_the_keys_regions(keyed):
    client, _ = keyed

    def readjudicated(key, **body):
        answer = client.post(
            "/v1/simulations/readjudication", json={"scenario": "national_only", **body}, headers=bearer(key)
        )
        assert answer.status_code == 200, answer.json
        return answer.json

    every = readjudicated("national")
    assert every["decisions"] == len(SENT)
    assert {r: v["decisions"] for r, v in every["by_home_region"].items()} == {"25": 3, "01": 4, "24": 1}
    mine = readjudicated("norrbotten")
    assert mine["decisions"] == 4
    assert {r: v["decisions"] for r, v in mine["by_home_region"].items()} == {"25": 3, "01": 1}
    assert {c["contact_id"] for c in mine["changed"]["items"]} <= set(visible_to({"25"}))
    assert readjudicated("norrbotten", home_region="25")["by_home_region"].keys() == {"25"}


def test_the_access_log_holds_what_a_regional_key_was_given_and_nothing_else(keyed):
    """Issue 16 item 8 with scoping: the decisions a 25 key was sent, never another region's, and
    its look-up of another region's decision as an attempt that returned none."""
    client, ids = keyed
    listed(client, "norrbotten", limit=100)
    fed(client, "norrbotten", limit=100)
    assert client.get(f"/v1/decisions/{ids['s-1']}", headers=bearer("norrbotten")).status_code == 404
    records = client.get("/v1/access-log?client=norrbotten", headers=bearer("auditor"))
    assert records.status_code == 200, records.json
    got = [(r["path"], r["decision_ids"]) for r in records.json["items"]]
    mine = [ids[cid] for cid in visible_to({"25"})]
    assert got == [
        ("/v1/decisions", mine),
        ("/v1/decisions/feed", mine),
        ("/v1/decisions/feed", []),
        (f"/v1/decisions/{ids['s-1']}", []),
    ]


def test_open_mode_reads_every_decision_as_before(make_app):
    client = make_app().test_client()
    for contact_id, home, care in SENT:
        line = contact(contact_id, home_region=home, care_region=care)
        assert client.post("/v1/verdicts", json=line).status_code == 200
    items = client.get("/v1/decisions?limit=100").json["items"]
    assert [i["contact_id"] for i in items] == [cid for cid, *_ in SENT]
    assert client.get("/v1/decisions?home_region=01").status_code == 200
    assert client.get(f"/v1/decisions/{items[1]['decision_id']}").status_code == 200
    assert len(client.get("/v1/decisions/feed").json["items"]) == len(SENT)
    readjudication = client.post("/v1/simulations/readjudication", json={"scenario": "national_only"})
    assert readjudication.json["decisions"] == len(SENT)


def _stored(count: int, home: str, care: str, first: int, tx: str) -> list[dict]:
    start = datetime(2024, 1, 1, tzinfo=UTC)
    return [
        {
            "decision_id": f"d-{home}-{i}",
            "idem_key": f"k-{i}",
            "contact_id": f"c-{i}",
            "home_region": home,
            "care_region": care,
            "revision": 1,
            "contact_date": start.date(),
            "decision": "pay",
            "reason": "DIGITAL_TARIFF",
            "amount_ore": 0,
            "contact": "{}",
            "verdict": "{}",
            "policy_digest": "-",
            "layers": "[]",
            "evaluated_at": start + timedelta(seconds=i),
            "client": "test",
            "supersedes": None,
            "tx": tx,
        }
        for i in range(first, first + count)
    ]


def test_a_scoped_feed_page_reads_a_bounded_part_of_the_log_and_moves_on(db_url):
    """More than SCAN decisions of other regions before one of the key's: a page reads SCAN of
    them, answers none and a token past them; the next page goes on and finds the key's. A page
    never holds more than asked, and never one decision twice."""
    storage = Storage.open(db_url)
    try:
        with storage.engine.begin() as conn:
            conn.execute(insert(decisions), _stored(SCAN + 5, "01", "13", 0, "tx-a"))
            conn.execute(insert(decisions), _stored(3, "25", "06", SCAN + 5, "tx-b"))
            conn.execute(insert(decision_commits), [{"tx": "tx-a"}, {"tx": "tx-b"}])
        norrbotten = frozenset({"25"})
        first = storage.feed.page(None, 2, norrbotten)
        assert first.items == []
        assert decode_token(first.next)[0] == 1  # within the first commit, past SCAN decisions of it
        second = storage.feed.page(first.next, 2, norrbotten)
        assert [d["decision_id"] for d in second.items] == [f"d-25-{SCAN + 5}", f"d-25-{SCAN + 6}"]
        third = storage.feed.page(second.next, 2, norrbotten)
        assert [d["decision_id"] for d in third.items] == [f"d-25-{SCAN + 7}"]
        assert storage.feed.page(third.next, 2, norrbotten).items == []
        assert storage.feed.page(third.next, 2).next == third.next  # the end, for any key
    finally:
        storage.close()


def test_a_decision_does_not_name_the_one_it_superseded_when_the_key_may_not_read_that_one(keyed):
    """s-1 (home 01, care 06) is sent again with care region 25: region 25 may read the new decision
    but not the one it replaced, so it is not told of it, by id, in a list or in the feed; a key that
    may read both still sees the chain."""
    client, ids = keyed
    again = client.post(
        "/v1/verdicts", json=contact("s-1", home_region="01", care_region="25"), headers=bearer("national")
    ).json
    assert again["supersedes"] == ids["s-1"]
    national = client.get(f"/v1/decisions/{again['decision_id']}", headers=bearer("national")).json
    assert national["supersedes"] == national["verdict"]["supersedes"] == ids["s-1"]
    by_id = client.get(f"/v1/decisions/{again['decision_id']}", headers=bearer("norrbotten")).json
    in_list = client.get("/v1/decisions?contact_id=s-1", headers=bearer("norrbotten")).json["items"]
    in_feed = [
        item
        for item in client.get("/v1/decisions/feed?limit=1000", headers=bearer("norrbotten")).json["items"]
        if item["contact_id"] == "s-1"
    ]
    for record in (by_id, *in_list, *in_feed):
        assert record["decision_id"] == again["decision_id"]
        assert record["supersedes"] is None and "supersedes" not in record["verdict"]
    assert ids["s-1"] not in str(by_id) + str(in_list) + str(in_feed)
    assert len(in_list) == len(in_feed) == 1
