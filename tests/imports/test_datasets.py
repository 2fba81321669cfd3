"""Real exports import with mapping options only and give their documented figures.

The files in ``data/`` are copies of ``shared/datasets/salesforce_sample`` and
``shared/datasets/odoo_crm_demo`` (their PROVENANCE.md and FIGURES.md beside
them), so the tests do not depend on a folder outside the repository. The
options used here are the commands of docs/import.md; no code of the importer
knows these files.
"""

from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count, Q, Sum

from kam.imports.mapping import model_has
from kam.imports.run import ImportOptions, run_import
from kam.sales.models import Account, Contact, Opportunity

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent / "data"
SALESFORCE = DATA / "salesforce_sample"
ODOO = DATA / "odoo_crm_demo"


def figures(deals=None):
    """The headline figures of a FIGURES.md, computed from the imported deals."""
    deals = deals if deals is not None else Opportunity.objects.all()
    totals = deals.aggregate(
        won=Count("pk", filter=Q(outcome="won")),
        lost=Count("pk", filter=Q(outcome="lost")),
        open=Count("pk", filter=Q(outcome="open")),
        won_amount=Sum("amount", filter=Q(outcome="won"), default=Decimal(0)),
        lost_amount=Sum("amount", filter=Q(outcome="lost"), default=Decimal(0)),
        open_amount=Sum("amount", filter=Q(outcome="open"), default=Decimal(0)),
    )
    closed = totals["won"] + totals["lost"]
    totals["win_rate"] = f"{100 * totals['won'] / closed:.2f}%" if closed else "n/a"
    return totals


def test_the_copied_datasets_are_the_shared_ones():
    shared = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"
    if not shared.is_dir():
        pytest.skip("shared/datasets is not beside this repository")
    for copy in DATA.glob("*/*"):
        assert copy.read_bytes() == (shared / copy.parent.name / copy.name).read_bytes(), copy


# Salesforce exports dates month first: say so rather than rely on the file showing it.
SALESFORCE_OPTIONS = {"date_format": "us"}


@pytest.mark.skipif(
    not model_has(Account, "external_id"),
    reason="Salesforce deals name their account by Id only: needs Account.external_id",
)
def test_the_salesforce_sample_gives_the_figures_of_its_figures_md(rep):
    options = ImportOptions.from_strings(**SALESFORCE_OPTIONS)

    accounts = run_import("accounts", SALESFORCE / "Account.csv", acting_user=rep, options=options)
    contacts = run_import("contacts", SALESFORCE / "Contact.csv", acting_user=rep, options=options)
    deals = run_import(
        "opportunities", SALESFORCE / "Opportunity.csv", acting_user=rep, options=options
    )

    assert (accounts.rows, accounts.created, accounts.failed) == (18, 18, 0)
    # Two contacts have an e-mail address no mail server accepts (b.levy@expressl&t.net).
    assert (contacts.rows, contacts.created, contacts.failed) == (25, 23, 2)
    assert {(p.line, p.column) for p in contacts.errors} == {(11, "Email"), (12, "Email")}
    assert (deals.rows, deals.created, deals.failed) == (36, 36, 0), deals.errors
    # FIGURES.md, headline
    assert figures() == {
        "won": 12,
        "lost": 8,
        "open": 16,
        "won_amount": Decimal("2815000"),
        "lost_amount": Decimal("830000"),
        "open_amount": Decimal("2115000"),
        "win_rate": "60.00%",
    }
    # Five deals have no Amount: counted as 0, each with a warning.
    assert len([w for w in deals.warnings if w.column == "Amount"]) == 5
    # FIGURES.md, per account
    united = figures(Opportunity.objects.filter(account__name="United Oil & Gas Corp."))
    assert (united["won"], united["lost"], united["open"]) == (3, 3, 4)
    assert (united["won_amount"], united["open_amount"]) == (Decimal("1590000"), Decimal("1340000"))
    assert Opportunity.objects.values("account").distinct().count() == 14
    # FIGURES.md, per lead source: External Referral and Word of mouth are referrals.
    referrals = figures(Opportunity.objects.filter(source="referral"))
    assert (referrals["won"], referrals["won_amount"]) == (6, Decimal("1240000"))
    assert Contact.objects.filter(account__name="Edge Communications").count() == 2


@pytest.mark.skipif(
    not model_has(Account, "external_id"),
    reason="Salesforce deals name their account by Id only: needs Account.external_id",
)
def test_importing_the_salesforce_sample_again_changes_nothing(rep):
    options = ImportOptions.from_strings(**SALESFORCE_OPTIONS)
    for kind, name in (("accounts", "Account"), ("opportunities", "Opportunity")):
        run_import(kind, SALESFORCE / f"{name}.csv", acting_user=rep, options=options)
    again = run_import(
        "opportunities", SALESFORCE / "Opportunity.csv", acting_user=rep, options=options
    )
    assert (again.skipped, again.created, again.updated) == (36, 0, 0)


def test_salesforce_deals_without_their_accounts_fail_saying_to_import_the_accounts_first(rep):
    options = ImportOptions.from_strings(**SALESFORCE_OPTIONS)
    report = run_import(
        "opportunities", SALESFORCE / "Opportunity.csv", acting_user=rep, options=options
    )

    assert (report.failed, report.errors[0].column) == (36, "AccountId")
    assert not Opportunity.objects.exists()


# The Odoo file is a flattened demo: its columns carry Odoo's field names where Odoo
# has them (name, partner_name, expected_revenue) and say the state after install
# in columns of their own. The customer is the company, else the partner, else the person.
ODOO_OPTIONS = {
    "map": [
        "xml_id=external_id",
        "expected_revenue=amount",
        "stage_after_install=stage",
        "outcome_after_install=outcome",
        "partner_name=account",
        "partner_xml_ref=account",
        "contact_name=account",
        "user_xml_ref=owner",
    ],
    "map_value": [
        "owner:base.user_admin=teammate",
        "owner:base.user_demo=manager",
        "owner:False=",
    ],
    "default": ["account=(no customer)"],
}


def test_the_odoo_demo_gives_the_figures_of_its_figures_md(rep, teammate, manager):
    options = ImportOptions.from_strings(**ODOO_OPTIONS)

    report = run_import(
        "opportunities", ODOO / "crm_lead_demo.csv", acting_user=rep, options=options
    )

    assert (report.rows, report.created, report.failed) == (44, 44, 0), report.errors
    assert report.unknown_columns[:3] == ["type", "country_xml_ref", "city"]
    # FIGURES.md, headline
    assert figures() == {
        "won": 3,
        "lost": 5,
        "open": 36,
        "won_amount": Decimal("23800"),
        "lost_amount": Decimal("7500"),
        "open_amount": Decimal("707244"),
        "win_rate": "37.50%",
    }
    # FIGURES.md, per salesperson (the unassigned ones go to whoever imports)
    per_owner = {
        user.username: figures(Opportunity.objects.filter(owner=user))
        for user in (teammate, manager, rep)
    }
    assert [
        (f["won"], f["lost"], f["open"], f["won_amount"], f["open_amount"])
        for f in per_owner.values()
    ] == [
        (1, 3, 17, Decimal("19800"), Decimal("220387")),
        (2, 2, 6, Decimal("4000"), Decimal("86000")),
        (0, 0, 13, Decimal("0"), Decimal("400857")),
    ]
    # Won deals are at stage 6; the lost ones keep the stage they were lost at.
    assert set(Opportunity.objects.filter(outcome="won").values_list("stage", flat=True)) == {6}
    assert Opportunity.objects.get(external_id="crm_case_28").stage == 1
    deco = figures(Opportunity.objects.filter(account__name="Deco Addict"))
    assert (deco["won"], deco["lost"], deco["open"]) == (1, 2, 2)


def test_importing_the_odoo_demo_again_changes_nothing(rep, teammate, manager):
    options = ImportOptions.from_strings(**ODOO_OPTIONS)
    run_import("opportunities", ODOO / "crm_lead_demo.csv", acting_user=rep, options=options)

    again = run_import(
        "opportunities", ODOO / "crm_lead_demo.csv", acting_user=rep, options=options
    )

    assert (again.skipped, again.created, again.updated, again.failed) == (44, 0, 0, 0)
