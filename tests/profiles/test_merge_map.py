"""The merge map analytics read: each merged profile's id and the id it became, written as
the event files write profile ids (``str(uuid)``), on every database."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cxloop.models import Profile
from cxloop.profiles import service as profiles
from tests.fixtures.factories import make_customer, make_workspace


def test_the_merge_map_uses_the_event_files_spelling_of_ids(session: Session) -> None:
    workspace = make_workspace(session)
    kept = make_customer(session, workspace, user_id="kept")
    merged = [make_customer(session, workspace, user_id=f"gone-{i}") for i in range(3)]
    other = make_workspace(session)
    make_customer(session, other, user_id="elsewhere")
    for profile_id in merged:
        found = session.get(Profile, profile_id)
        assert found is not None
        found.merged_into_id = kept
    session.flush()
    assert profiles.merge_map(session, workspace.id) == {str(m): str(kept) for m in merged}
    assert profiles.merge_map(session, other.id) == {}


def test_a_kept_map_follows_every_later_merge(session: Session) -> None:
    workspace = make_workspace(session)
    a, b, c, d, e = (make_customer(session, workspace, user_id=u) for u in "abcde")

    def merge(into: object, *gone: object) -> None:
        for profile_id in gone:
            found = session.get(Profile, profile_id)
            assert found is not None
            found.merged_into_id = into  # type: ignore[assignment]
        session.flush()

    merge(b, a)
    first = profiles.merge_map(session, workspace.id)
    assert first == {str(a): str(b)}
    assert profiles.merge_map(session, workspace.id) is first  # kept, not read again
    merge(c, b, a)  # b merges into c; the older merge a -> b is re-pointed with it
    assert profiles.merge_map(session, workspace.id) == {str(a): str(c), str(b): str(c)}
    # what a transaction merges and then rolls back is read fresh and never kept
    with session.begin_nested() as nested:
        merge(c, d)
        assert profiles.merge_map(session, workspace.id, fresh=True)[str(d)] == str(c)
        nested.rollback()
    merge(c, e)  # as many merged profiles as in the rolled-back transaction, other ones
    assert profiles.merge_map(session, workspace.id) == {
        str(a): str(c),
        str(b): str(c),
        str(e): str(c),
    }
