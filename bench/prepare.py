"""Shapes a freshly generated data set into the users the benchmarks act as
(run by ``common.data_dir`` with ``KAM_DATA_DIR`` set, once per cached set):

- ``mgr01`` manages three teams (the issue's "manager of three teams");
- ``rep001`` owns ``REP_OPEN_DEALS`` open deals of their team (the issue's "rep
  with 400 open deals"): deals of teammates are handed over, which changes no
  stored figure (the coach reads the activities of the deal's team).
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import MANAGER, REP, setup_django

REP_OPEN_DEALS = 400


def main() -> None:
    import os

    setup_django(Path(os.environ["KAM_DATA_DIR"]))
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kam.org.models import Membership, Team
    from kam.sales.models import Opportunity, Outcome

    users = get_user_model().objects
    manager, rep = users.get(username=MANAGER), users.get(username=REP)
    team = Membership.objects.filter(user=rep).first().team
    with transaction.atomic():
        for other in Team.objects.order_by("pk")[:3]:
            Membership.objects.update_or_create(
                user=manager, team=other, defaults={"role": Membership.Role.MANAGER}
            )
        mine = Opportunity.objects.filter(owner=rep, outcome=Outcome.OPEN).count()
        handed = list(
            Opportunity.objects.filter(team=team, outcome=Outcome.OPEN)
            .exclude(owner=rep)
            .order_by("pk")
            .values_list("pk", flat=True)[: max(0, REP_OPEN_DEALS - mine)]
        )
        Opportunity.objects.filter(pk__in=handed).update(owner=rep)
    print(f"bench: {MANAGER} manages 3 teams; {REP} owns {mine + len(handed)} open deals")


if __name__ == "__main__":
    main()
