"""One record of every scoped model, made with the ORM for test set-up."""

import datetime as dt
from decimal import Decimal

from kam.sales import figures
from kam.sales import models as m

DAY = dt.date(2025, 3, 1)


def tree(owner, team, tag):
    """One record of every scoped model, owned by ``owner`` in ``team``."""
    account = m.Account.objects.create(name=f"{tag} 化工集团", owner=owner, team=team)
    contact = m.Contact.objects.create(account=account, name=f"{tag} 总工")
    deal = m.Opportunity.objects.create(
        account=account, name=f"{tag} 防腐涂料项目", amount=Decimal(800_000), owner=owner, team=team
    )
    records = {
        "account": account,
        "contact": contact,
        "opportunity": deal,
        "familiarity": m.Familiarity.objects.create(contact=contact, user=owner, strength=2),
        "trustactiondone": m.TrustActionDone.objects.create(
            account=account, action="factory_visit", on=DAY, by=owner
        ),
        "lead": m.Lead.objects.create(
            name=f"{tag} 扩建", company=account.name, source="trade_show", owner=owner, team=team
        ),
        "buyingcenterentry": m.BuyingCenterEntry.objects.create(
            opportunity=deal, contact=contact, technical=True, insider=True
        ),
        "keynodeevidence": m.KeyNodeEvidence.objects.create(
            opportunity=deal, node="need_confirmed", by=owner, on=DAY
        ),
        "stageoverride": m.StageOverride.objects.create(
            opportunity=deal, from_stage=1, to_stage=2, reason="客户催促", by=owner, on=DAY
        ),
        "insiderclaim": m.InsiderClaim.objects.create(
            opportunity=deal, contact=contact, fact="budget", supplied_on=DAY
        ),
        "offfunnelorder": m.OffFunnelOrder.objects.create(
            account=account, amount=Decimal(3_000), on=DAY, owner=owner, team=team
        ),
        "activity": m.Activity.objects.create(
            kind="visit", on=DAY, account=account, opportunity=deal, owner=owner, team=team
        ),
    }
    records["target"] = m.Target.objects.create(
        user=owner, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), amount=Decimal(10**6)
    )
    records["team target"] = m.Target.objects.create(
        team=team, start=dt.date(2025, 1, 1), end=dt.date(2025, 12, 31), amount=Decimal(10**7)
    )
    figures.refresh_accounts([account.pk], [deal.pk])
    records["dealfigures"] = m.DealFigures.objects.get(pk=deal.pk)
    records["accountfigures"] = m.AccountFigures.objects.get(pk=account.pk)
    return records
