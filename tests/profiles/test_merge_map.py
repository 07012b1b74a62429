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
