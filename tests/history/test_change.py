"""History rows: written inside the write's transaction, never changed or deleted, and
read per record with its parts."""

import pytest
from django.contrib.auth import get_user_model
from django.db import transaction

from kam.history.models import Change, HistoryIsReadOnly
from kam.history.record import Action, Source, changes_since, history_of, record
from kam.sales import actions
from tests.sales import factories as f
from tests.sales.factories import PAGE, TODAY

pytestmark = pytest.mark.django_db


def test_a_change_cannot_be_edited(rep):
    change = history_of(f.account(rep)).get()
    change.changes = {"name": [None, "forged"]}

    with pytest.raises(HistoryIsReadOnly):
        change.save()

    assert Change.objects.get().changes["name"] == [None, "中建三局第二建设工程"]


def test_a_change_cannot_be_deleted_one_by_one_or_in_bulk(rep):
    change = history_of(f.account(rep)).get()

    with pytest.raises(HistoryIsReadOnly):
        change.delete()
    with pytest.raises(HistoryIsReadOnly):
        Change.objects.all().delete()
    with pytest.raises(HistoryIsReadOnly):
        Change.objects.update(source=Source.IMPORT)

    assert Change.objects.get().source == "page"


def test_deleting_a_user_keeps_their_changes_without_the_link(rep):
    account = f.account(rep)
    leaver = get_user_model().objects.create_user("leaver", password="x" * 12)
    actions.update_record(
        account, acting_user=leaver, source=PAGE, expected_version=1, changes={"region": "长沙"}
    )

    leaver.delete()

    change = history_of(account).first()
    assert (change.user, change.changes) == (None, {"region": ["", "长沙"]})


@pytest.mark.django_db(transaction=True)
def test_history_is_written_only_inside_the_writes_transaction(rep):
    account = f.account(rep)

    with pytest.raises(RuntimeError):
        record(account, action=Action.UPDATE, user=rep, source=Source.PAGE)


def test_history_of_a_deal_shows_its_parts_newest_first(rep):
    deal = f.opportunity(rep, f.account(rep))
    f.evidence(rep, deal, "need_confirmed")
    actions.update_record(
        deal, acting_user=rep, source=PAGE, expected_version=1, changes={"name": "二期供货"}
    )

    rows = list(history_of(deal))

    assert [(r.content_type.model, r.action) for r in rows] == [
        ("opportunity", "update"),
        ("keynodeevidence", "create"),
        ("opportunity", "create"),
    ]
    assert [r.content_type.model for r in history_of(deal, parts=False)] == [
        "opportunity",
        "opportunity",
    ]


def test_changes_since_a_version_lists_the_later_writes_in_order(rep, teammate):
    account = f.account(rep)
    for user, region in ((rep, "长沙"), (teammate, "郑州")):
        actions.update_record(
            account,
            acting_user=user,
            source=PAGE,
            expected_version=account.version,
            changes={"region": region},
        )
        account.refresh_from_db()

    later = list(changes_since(account, 1))

    assert [(c.version, c.user, c.changes["region"][1]) for c in later] == [
        (2, rep, "长沙"),
        (3, teammate, "郑州"),
    ]


def test_a_write_in_error_leaves_no_history(rep):
    account = f.account(rep)

    with pytest.raises(ValueError), transaction.atomic():
        actions.log_activity(account=account, kind="visit", on=TODAY, acting_user=rep, source=PAGE)
        raise ValueError("the page failed after the action")

    assert [c.content_type.model for c in Change.objects.all()] == ["account"]
