"""Who is who: people matched to agents by email, pure."""

from __future__ import annotations

from queues.roster_match import Identity, Person, match, normal_email


def agents() -> list[Identity]:
    return [
        Identity("ana", " Ana.Silva@Example.com ", {}),
        Identity("ben", "ben@example.com", {"genesys": "g-ben"}),
        Identity("cy", "cy@example.com", {}),
        Identity("cy2", "CY@example.com", {}),
        Identity("dee", None, {}),
    ]


def test_emails_match_without_case_and_spaces() -> None:
    assert normal_email("  Ana.Silva@Example.COM ") == "ana.silva@example.com"
    assert normal_email("   ") is None
    assert normal_email(None) is None


def test_fills_only_empty_ids_and_reports_the_rest() -> None:
    people = [
        Person("g-ana", "ana.silva@example.com"),
        Person("g-ben-2", "BEN@example.com"),  # ben already has another id
        Person("g-cy", "cy@example.com"),  # two agents have this email
        Person("g-zed", "zed@example.com"),  # nobody has this email
        Person("g-none", None),
    ]
    found = match("genesys", people, agents(), {})
    assert [(f.agent_id, f.external_id) for f in found.fills] == [("ana", "g-ana")]
    kinds = sorted((c.kind, c.external_id) for c in found.conflicts)
    assert kinds == [("different_id", "g-ben-2"), ("two_agents", "g-cy")]
    assert [p.external_id for p in found.unmatched_people] == ["g-zed", "g-none"]
    assert found.unmatched_agents == ["dee"]
    assert found.people == 5
    assert sorted(found.matched) == [("ana", "g-ana"), ("ben", "g-ben-2")]


def test_an_id_already_right_or_held_by_another() -> None:
    people = [Person("arn:1", "ana.silva@example.com", aliases=frozenset({"u1"}))]
    same = match(
        "amazon_connect",
        people,
        [Identity("ana", "ana.silva@example.com", {"amazon_connect": "u1"})],
        {},
    )
    assert not same.fills
    assert not same.conflicts
    assert same.matched == [("ana", "arn:1")]
    held = match(
        "amazon_connect",
        people,
        [Identity("ana", "ana.silva@example.com", {})],
        {("amazon_connect", "u1"): "gone"},
    )
    assert not held.fills
    assert [(c.kind, c.agents) for c in held.conflicts] == [("held_by_other", ("ana", "gone"))]


def test_two_platform_users_with_one_email_fill_nothing() -> None:
    people = [Person("W1", "ana.silva@example.com"), Person("W2", "ana.silva@example.com")]
    found = match("twilio", people, agents(), {})
    assert not found.fills
    assert {c.kind for c in found.conflicts} == {"shared_email"}
    assert len(found.conflicts) == 2
