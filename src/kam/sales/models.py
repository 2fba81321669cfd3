"""The records a sales team keeps: leads, accounts, contacts, opportunities,
activities, off-funnel orders and targets.

Models store; ``kam.method`` decides. Each model that the method reads has a
``to_method()`` building the method's record, and no rule of the method is
computed here. Every write goes through ``kam.sales.actions``.
"""

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from kam.method import buying_center, funnel, types, whole_brain
from kam.org.models import CompanySettings, Team

MONEY = {"max_digits": 16, "decimal_places": 2, "validators": [MinValueValidator(Decimal(0))]}
EARLIEST_DATE = dt.date(1990, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def validate_business_date(value: dt.date) -> None:
    """Refuse dates no sales record can have (typos such as 0226 or 2206)."""
    if not EARLIEST_DATE <= value <= LATEST_DATE:
        raise ValidationError(
            _("%(value)s is outside %(start)s – %(end)s."),
            params={"value": value, "start": EARLIEST_DATE, "end": LATEST_DATE},
            code="date_out_of_range",
        )


# Choices mirror the method's enums: the values are the method's, the labels translated here.
class LeadSource(models.TextChoices):
    INDUSTRY_MEDIA = types.LeadSource.INDUSTRY_MEDIA, _("industry media")
    SEARCH_ENGINE = types.LeadSource.SEARCH_ENGINE, _("search engine")
    SALES_PEER = types.LeadSource.SALES_PEER, _("sales peer")
    TRADE_SHOW = types.LeadSource.TRADE_SHOW, _("trade show")
    EXISTING_CUSTOMER = types.LeadSource.EXISTING_CUSTOMER, _("existing customer")
    REFERRAL = types.LeadSource.REFERRAL, _("referral")
    OTHER = types.LeadSource.OTHER, _("other")


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"


class Decision(models.TextChoices):
    PURSUE = types.Decision.PURSUE, _("pursue")
    NURTURE = types.Decision.NURTURE, _("nurture")
    DROP = types.Decision.DROP, _("drop")


class Stage(models.IntegerChoices):
    DEVELOPMENT = 1, _("1 development")
    ENTRY = 2, _("2 sales entry")
    PROPOSAL = 3, _("3 proposal")
    TENDER = 4, _("4 tender")
    NEGOTIATION = 5, _("5 negotiation")
    IMPLEMENTATION = 6, _("6 implementation")


class Outcome(models.TextChoices):
    OPEN = types.Outcome.OPEN, _("open")
    WON = types.Outcome.WON, _("won")
    LOST = types.Outcome.LOST, _("lost")
    ABANDONED = types.Outcome.ABANDONED, _("abandoned")


class Influence(models.IntegerChoices):
    LOW = types.Influence.LOW, _("low")
    MEDIUM = types.Influence.MEDIUM, _("medium")
    HIGH = types.Influence.HIGH, _("high")


class Attitude(models.TextChoices):
    SUPPORTER = types.Attitude.SUPPORTER, _("supporter")
    NEUTRAL = types.Attitude.NEUTRAL, _("neutral")
    OPPONENT = types.Attitude.OPPONENT, _("opponent")


class Strength(models.IntegerChoices):
    NONE = types.Strength.NONE, _("none")
    ACQUAINTED = types.Strength.ACQUAINTED, _("acquainted")
    GOOD = types.Strength.GOOD, _("good")
    STRONG = types.Strength.STRONG, _("strong")


class Quadrant(models.TextChoices):
    A = "A", _("A analytical")
    B = "B", _("B sequential")
    C = "C", _("C interpersonal")
    D = "D", _("D imaginative")


class RelationshipType(models.TextChoices):
    OUTSIDER = types.RelationshipType.OUTSIDER, _("outsider")
    FRIEND = types.RelationshipType.FRIEND, _("friend")
    SUPPLIER = types.RelationshipType.SUPPLIER, _("supplier")
    PARTNER = types.RelationshipType.PARTNER, _("partner")


class RelationshipLevel(models.IntegerChoices):
    PRICE = 1, _("1 price")
    SERVICE = 2, _("2 personalised service")
    MUTUAL_BENEFIT = 3, _("3 mutual benefit")


class Lifecycle(models.TextChoices):
    INCUBATION = types.Lifecycle.INCUBATION, _("incubation")
    TRANSACTION = types.Lifecycle.TRANSACTION, _("transaction")
    COOPERATION = types.Lifecycle.COOPERATION, _("cooperation")


class ActivityKind(models.TextChoices):
    VISIT = types.ActivityKind.VISIT, _("visit")
    CALL = types.ActivityKind.CALL, _("call")
    MEETING = types.ActivityKind.MEETING, _("meeting")
    EMAIL = types.ActivityKind.EMAIL, _("email")
    SITE_VISIT = types.ActivityKind.SITE_VISIT, _("site visit")
    ENTERTAINMENT = types.ActivityKind.ENTERTAINMENT, _("entertainment")
    GIFT = types.ActivityKind.GIFT, _("gift")


class InsiderFact(models.TextChoices):
    SCHEDULE = types.InsiderFact.SCHEDULE, _("schedule")
    BUDGET = types.InsiderFact.BUDGET, _("budget")
    ORGANISATION = types.InsiderFact.ORGANISATION, _("organisation")
    ROLES = types.InsiderFact.ROLES, _("roles")
    KEY_PEOPLE = types.InsiderFact.KEY_PEOPLE, _("key people")
    COMPETITORS = types.InsiderFact.COMPETITORS, _("competitors")


class LiveManager(models.Manager):
    """Records not in the recycle bin."""

    def get_queryset(self):
        return super().get_queryset().filter(deleted_at__isnull=True)


class Owned(models.Model):
    """A record with an owner and a team: who may see it follows from these two.

    ``version`` grows by one on every save through an action, so a form or an
    API client holding an older version is refused instead of overwriting.
    """

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("owner"),
    )
    team = models.ForeignKey(
        Team, on_delete=models.PROTECT, related_name="+", verbose_name=_("team")
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True


# Days a deleted account, contact or opportunity stays restorable in the recycle bin.
RECYCLE_DAYS = 30


class Deletable(models.Model):
    """A record the recycle bin keeps for ``RECYCLE_DAYS`` days; its children go with it
    in one batch (``deleted_batch``) and come back with it."""

    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True, editable=False)
    deleted_batch = models.UUIDField(null=True, blank=True, editable=False)

    objects = LiveManager()
    all_objects = models.Manager()  # noqa: DJ012 (ruff reads a plain Manager as a field)

    class Meta:
        abstract = True
        base_manager_name = "all_objects"


class Account(Owned, Deletable):
    """A customer organisation (大客户) with its customer file (大客户档案)."""

    class Scale(models.TextChoices):
        SMALL = "small", _("small")
        MEDIUM = "medium", _("medium")
        LARGE = "large", _("large")
        GROUP = "group", _("group / conglomerate")

    class Ownership(models.TextChoices):
        CENTRAL_SOE = "central_soe", _("central state-owned")
        LOCAL_SOE = "local_soe", _("local state-owned")
        PRIVATE = "private", _("private")
        FOREIGN = "foreign", _("foreign-invested")
        PUBLIC_INSTITUTION = "public_institution", _("public institution")
        OTHER = "other", _("other")

    name = models.CharField(_("name"), max_length=200)
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Its id in another CRM.")
    )
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    region = models.CharField(_("region"), max_length=100, blank=True)
    scale = models.CharField(_("scale"), max_length=10, choices=Scale.choices, blank=True)
    ownership = models.CharField(
        _("ownership"), max_length=20, choices=Ownership.choices, blank=True
    )
    traits = models.CharField(
        _("traits"), max_length=200, blank=True, help_text=_("What sets this customer apart.")
    )
    collective_decision = models.BooleanField(
        _("collective decision"),
        default=False,
        help_text=_("Major purchases are decided by the leadership team (三重一大)."),
    )
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    funding_notes = models.TextField(_("funding"), blank=True)
    credit_notes = models.TextField(_("credit and payment record"), blank=True)
    business = models.TextField(_("their business"), blank=True)
    innovation_goals = models.TextField(_("technical innovation goals"), blank=True)
    products_in_use = models.TextField(_("products in use and how they perform"), blank=True)
    decision_process = models.TextField(_("decision process"), blank=True)
    latent_needs = models.TextField(_("latent needs"), blank=True)
    lifecycle = models.CharField(
        _("lifecycle"), max_length=12, choices=Lifecycle.choices, default=Lifecycle.INCUBATION
    )
    relationship_type = models.CharField(
        _("relationship type"),
        max_length=10,
        choices=RelationshipType.choices,
        default=RelationshipType.OUTSIDER,
    )
    relationship_level = models.PositiveSmallIntegerField(
        _("relationship level"), choices=RelationshipLevel.choices, default=RelationshipLevel.PRICE
    )

    FILE_FIELDS = (
        "business",
        "innovation_goals",
        "products_in_use",
        "decision_process",
        "latent_needs",
    )

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["name"]
        indexes = [
            models.Index(fields=["grade"]),
            models.Index(fields=["industry"]),
            models.Index(fields=["region"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["team"]),
            models.Index(fields=["relationship_type", "relationship_level"]),
            models.Index(fields=["lifecycle"]),
            models.Index(fields=["deleted_at"]),
        ]

    def __str__(self):
        return self.name

    def filled_file_fields(self) -> frozenset[str]:
        return frozenset(f for f in self.FILE_FIELDS if getattr(self, f).strip())


class TrustActionDone(models.Model):
    """A trust-building action (建立信任的方法) done with an account, with its evidence."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="trust_actions")
    action = models.CharField(_("action"), max_length=40)
    on = models.DateField(_("date"), validators=[validate_business_date])
    evidence = models.TextField(_("evidence"), blank=True)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = _("trust-building action")
        verbose_name_plural = _("trust-building actions")
        ordering = ["-on"]

    def __str__(self):
        return f"{self.account} · {self.action} · {self.on}"

    def clean(self):
        from kam.method.relationship import TRUST_ACTIONS_BY_ID

        if self.action not in TRUST_ACTIONS_BY_ID:
            raise ValidationError({"action": _("Unknown trust-building action.")})


class Contact(Deletable):
    """A person at a customer, with the whole-brain observations our people made."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(_("name"), max_length=100)
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Its id in another CRM.")
    )
    title = models.CharField(_("title"), max_length=100, blank=True)
    department = models.CharField(_("department"), max_length=100, blank=True)
    reports_to = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reports",
        verbose_name=_("reports to"),
    )
    leadership_member = models.BooleanField(
        _("member of the leadership team"),
        default=False,
        help_text=_("Sits on the leadership team that decides collectively (领导班子)."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    email = models.EmailField(_("email"), blank=True)
    wechat = models.CharField(_("WeChat"), max_length=60, blank=True)
    brain_phrases = models.JSONField(_("habitual phrases heard"), default=list, blank=True)
    brain_direct = models.JSONField(
        _("whole-brain scores given directly"), default=dict, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta(Deletable.Meta):
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["account", "name"]
        indexes = [models.Index(fields=["account", "deleted_at"])]

    def __str__(self):
        return f"{self.name} ({self.account})"

    def clean(self):
        if self.reports_to_id is None:
            return
        if self.reports_to_id == self.pk:
            raise ValidationError({"reports_to": _("A person cannot report to themselves.")})
        if self.reports_to.deleted_at is not None:
            raise ValidationError({"reports_to": _("This person is in the recycle bin.")})
        if self.reports_to.account_id != self.account_id:
            raise ValidationError({"reports_to": _("The manager must work at the same account.")})
        colleagues = [
            types.Person(
                str(c.pk), c.name, reports_to=str(c.reports_to_id) if c.reports_to_id else None
            )
            for c in Contact.objects.filter(account_id=self.account_id).exclude(pk=self.pk)
        ]
        if self.pk and buying_center.would_create_cycle(
            colleagues, str(self.pk), str(self.reports_to_id)
        ):
            raise ValidationError(
                {"reports_to": _("This would make a reporting cycle in the org chart.")}
            )


class Familiarity(models.Model):
    """How well one of our people knows a contact (personal friendship level).

    A relationship resting on one of our people is a risk: people move.
    """

    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="familiarities")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    strength = models.PositiveSmallIntegerField(_("strength"), choices=Strength.choices)

    class Meta:
        verbose_name = _("familiarity")
        verbose_name_plural = _("familiarities")
        constraints = [
            models.UniqueConstraint(fields=["contact", "user"], name="one_familiarity_per_pair")
        ]

    def __str__(self):
        return f"{self.user} – {self.contact}: {self.get_strength_display()}"


class Lead(Owned):
    """A sales lead (销售线索) being screened before effort is spent on it."""

    name = models.CharField(_("name"), max_length=200)
    company = models.CharField(_("company"), max_length=200)
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices)
    known = models.TextField(_("what is known"), blank=True)
    amount = models.DecimalField(_("estimated amount"), null=True, blank=True, **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close = models.DateField(
        _("expected close"), null=True, blank=True, validators=[validate_business_date]
    )
    win_likelihood = models.FloatField(
        _("win likelihood"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
    )
    scores = models.JSONField(_("risk scores"), default=dict, blank=True)
    score = models.FloatField(_("risk score"), null=True, blank=True, editable=False)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(_("reason for the decision"), blank=True)
    screening_reasons = models.JSONField(
        _("the method's reasons"),
        default=list,
        blank=True,
        editable=False,
        help_text=_("The screening's reasons in both languages: [{zh, en}, ...]."),
    )
    account = models.ForeignKey(
        Account, on_delete=models.SET_NULL, null=True, blank=True, related_name="leads"
    )
    opportunity = models.ForeignKey(
        "Opportunity", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["source"]),
            models.Index(fields=["decision"]),
            models.Index(fields=["grade"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["team"]),
        ]

    def __str__(self):
        return self.name


class Opportunity(Owned, Deletable):
    """A deal moving through the six stages, with the evidence of its key nodes."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="opportunities")
    name = models.CharField(_("name"), max_length=200)
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close = models.DateField(
        _("expected close"), null=True, blank=True, validators=[validate_business_date]
    )
    stage = models.PositiveSmallIntegerField(
        _("stage"), choices=Stage.choices, default=Stage.DEVELOPMENT
    )
    stage_entered_on = models.DateField(_("in this stage since"), default=dt.date.today)
    outcome = models.CharField(
        _("outcome"), max_length=10, choices=Outcome.choices, default=Outcome.OPEN
    )
    closed_on = models.DateField(_("closed on"), null=True, blank=True)
    close_reason = models.TextField(_("why lost or abandoned"), blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    competitors = models.TextField(_("competitors"), blank=True, help_text=_("One per line."))
    proposal_emphasis = models.CharField(
        _("our proposal's emphasis"), max_length=1, choices=Quadrant.choices, blank=True
    )
    source = models.CharField(_("source"), max_length=20, choices=LeadSource.choices, blank=True)
    external_id = models.CharField(_("external id"), max_length=100, blank=True)

    class Meta(Deletable.Meta):
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        ordering = ["expected_close", "name"]
        indexes = [
            models.Index(fields=["stage", "outcome"]),
            models.Index(fields=["expected_close"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["team"]),
            models.Index(fields=["grade"]),
            models.Index(fields=["deleted_at"]),
            # Imports match a deal by its account and name without regard to case.
            models.Index(Lower("name"), "account", name="sales_opp_lower_name_account"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if self.outcome in (Outcome.LOST, Outcome.ABANDONED) and not self.close_reason.strip():
            raise ValidationError({"close_reason": _("Say why the deal was lost or abandoned.")})


class BuyingCenterEntry(models.Model):
    """One person's place in one deal's buying center (采购氛围): roles, real
    influence (kept apart from title), attitude, our relationship, insider."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="buying_center"
    )
    contact = models.ForeignKey(
        Contact, on_delete=models.CASCADE, related_name="buying_center_entries"
    )
    decision_maker = models.BooleanField(_("decision maker"), default=False)
    technical = models.BooleanField(_("technical person"), default=False)
    purchaser = models.BooleanField(_("purchaser / finance"), default=False)
    user = models.BooleanField(_("user"), default=False)
    influence = models.PositiveSmallIntegerField(
        _("influence"), choices=Influence.choices, default=Influence.MEDIUM
    )
    attitude = models.CharField(
        _("attitude"), max_length=10, choices=Attitude.choices, default=Attitude.NEUTRAL
    )
    strength = models.PositiveSmallIntegerField(
        _("relationship strength"), choices=Strength.choices, default=Strength.NONE
    )
    insider = models.BooleanField(_("insider"), default=False)

    ROLE_FIELDS = {
        "decision_maker": types.Role.DECISION_MAKER,
        "technical": types.Role.TECHNICAL,
        "purchaser": types.Role.PURCHASER,
        "user": types.Role.USER,
    }

    class Meta:
        verbose_name = _("buying-center entry")
        verbose_name_plural = _("buying-center entries")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"], name="one_entry_per_person_and_deal"
            )
        ]

    def __str__(self):
        return f"{self.contact.name} @ {self.opportunity}"

    def clean(self):
        if (
            self.contact_id
            and self.opportunity_id
            and self.contact.account_id != self.opportunity.account_id
        ):
            raise ValidationError(
                {"contact": _("The contact must work at the opportunity's account.")}
            )

    @property
    def roles(self) -> frozenset[types.Role]:
        return frozenset(role for name, role in self.ROLE_FIELDS.items() if getattr(self, name))


class KeyNodeEvidence(models.Model):
    """Proof that the customer reached a key node: who recorded it, when, and a note."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="evidence")
    node = models.CharField(_("key node"), max_length=60)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(_("date"), validators=[validate_business_date])
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("key-node evidence")
        verbose_name_plural = _("key-node evidence")
        constraints = [
            models.UniqueConstraint(fields=["opportunity", "node"], name="one_evidence_per_node")
        ]

    def __str__(self):
        return f"{self.opportunity} · {self.node}"

    def clean(self):
        process = CompanySettings.load().to_method().process
        if self.node not in {n.id for d in process.stages for n in d.key_nodes}:
            raise ValidationError({"node": _("This is not a key node of the company's process.")})


class StageOverride(models.Model):
    """A forced advance past a gate, with the reason given and what was missing."""

    opportunity = models.ForeignKey(Opportunity, on_delete=models.CASCADE, related_name="overrides")
    from_stage = models.PositiveSmallIntegerField(_("from stage"), choices=Stage.choices)
    to_stage = models.PositiveSmallIntegerField(_("to stage"), choices=Stage.choices)
    missing = models.JSONField(_("missing key nodes"), default=list)
    reason = models.TextField(_("reason"))
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    on = models.DateField(_("date"))

    class Meta:
        verbose_name = _("stage override")
        verbose_name_plural = _("stage overrides")
        ordering = ["on"]

    def __str__(self):
        return f"{self.opportunity}: {self.from_stage} → {self.to_stage}"


class InsiderClaim(models.Model):
    """A fact the insider supplied, and whether it was later confirmed."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="insider_claims"
    )
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    fact = models.CharField(_("fact"), max_length=20, choices=InsiderFact.choices)
    supplied_on = models.DateField(_("supplied on"), validators=[validate_business_date])
    confirmed = models.BooleanField(_("confirmed"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("insider claim")
        verbose_name_plural = _("insider claims")
        ordering = ["supplied_on"]

    def __str__(self):
        return f"{self.get_fact_display()} ({self.supplied_on})"


class OffFunnelOrder(Owned):
    """A small order below the funnel threshold (漏斗外销售额): amount and date only."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="off_funnel_orders")
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    on = models.DateField(_("date"), validators=[validate_business_date])
    note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("off-funnel order")
        verbose_name_plural = _("off-funnel orders")
        ordering = ["-on"]
        indexes = [
            models.Index(fields=["on"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["team"]),
        ]

    def __str__(self):
        return f"{self.account} · {self.amount} · {self.on}"

    def clean(self):
        if not isinstance(self.amount, Decimal):
            return  # clean_fields has said what is wrong with it
        funnel_settings = CompanySettings.load().to_method().funnel
        if not funnel.is_off_funnel(self.amount, settings=funnel_settings):
            raise ValidationError(
                {
                    "amount": _(
                        "%(amount)s is at or above the off-funnel threshold of %(threshold)s: "
                        "record it as an opportunity in the funnel."
                    )
                    % {"amount": self.amount, "threshold": funnel_settings.off_funnel_threshold}
                }
            )


class Activity(Owned):
    """A visit, call, meeting, email, site visit, entertainment or gift, with its
    cost and the pretext for the next visit (下次拜访的借口)."""

    kind = models.CharField(_("kind"), max_length=15, choices=ActivityKind.choices)
    on = models.DateField(_("date"), validators=[validate_business_date])
    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="activities")
    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, null=True, blank=True, related_name="activities"
    )
    contacts = models.ManyToManyField(
        Contact, blank=True, related_name="activities", verbose_name=_("contacts")
    )
    participants = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("our participants")
    )
    notes = models.TextField(_("notes"), blank=True)
    cost = models.DecimalField(_("cost"), default=Decimal(0), **MONEY)
    next_step = models.TextField(_("next step"), blank=True)
    next_pretext = models.CharField(_("pretext for the next visit"), max_length=200, blank=True)
    next_on = models.DateField(
        _("next visit on"), null=True, blank=True, validators=[validate_business_date]
    )

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        ordering = ["-on"]
        indexes = [
            models.Index(fields=["on"]),
            models.Index(fields=["kind"]),
            models.Index(fields=["next_on"]),
            models.Index(fields=["owner"]),
            models.Index(fields=["team"]),
            # My day's "visits due": is there a later activity with the same account?
            # (docs/performance.md shows the plan)
            models.Index(fields=["account", "on"]),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.account} · {self.on}"

    def clean(self):
        errors = {}
        if self.next_on and self.on and self.next_on < self.on:
            errors["next_on"] = _("The next visit cannot be before this one.")
        if (
            self.opportunity_id
            and self.account_id
            and self.opportunity.account_id != self.account_id
        ):
            errors["opportunity"] = _("The opportunity belongs to another account.")
        if errors:
            raise ValidationError(errors)


class Target(models.Model):
    """A sales target for a user or a team over a period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="targets",
    )
    team = models.ForeignKey(
        Team, on_delete=models.CASCADE, null=True, blank=True, related_name="targets"
    )
    start = models.DateField(_("start date"))
    end = models.DateField(_("end date"))
    amount = models.DecimalField(_("amount"), **MONEY)

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=False, team__isnull=True)
                | models.Q(user__isnull=True, team__isnull=False),
                name="target_for_a_user_or_a_team",
            ),
            models.CheckConstraint(
                condition=models.Q(end__gte=models.F("start")), name="target_period_ordered"
            ),
        ]

    def __str__(self):
        return f"{self.user or self.team}: {self.amount} ({self.start} – {self.end})"

    def clean(self):
        if (self.user_id is None) == (self.team_id is None):
            raise ValidationError(_("A target is for one user or one team."))
        if self.start and self.end and self.end < self.start:
            raise ValidationError({"end": _("The period ends before it starts.")})


# ---------------------------------------------------------------------------
# Stored figures: what ``kam.method.figures`` computed, kept current by
# ``kam.sales.figures`` whenever something they read changes, so that lists,
# the funnel and the forecast are sums in the database. Not user data: no
# history, no version; ``kam recompute`` rebuilds them from the records.
# ---------------------------------------------------------------------------


class DealFigures(models.Model):
    """One opportunity's stored figures, computed on ``computed_for``.

    Each figure is stored twice where the insider could show through: as the
    deal's owner and managers see it, and ``discreet_*`` as teammates who may not
    learn who the insider is see it. ``factors`` and ``findings`` carry, per item,
    ``insider``: whether it exists only because the insider is known.
    """

    opportunity = models.OneToOneField(
        Opportunity, on_delete=models.CASCADE, primary_key=True, related_name="figures"
    )
    rules_version = models.CharField(max_length=16)
    computed_for = models.DateField()
    in_funnel = models.BooleanField()
    won_on = models.DateField(null=True)
    likelihood = models.FloatField()
    weighted_amount = models.DecimalField(max_digits=16, decimal_places=2)
    factors = models.JSONField(default=list)
    discreet_likelihood = models.FloatField()
    discreet_weighted_amount = models.DecimalField(max_digits=16, decimal_places=2)
    discreet_factors = models.JSONField(default=list)
    findings = models.JSONField(default=list)
    discreet_findings = models.JSONField(default=list)
    # The most urgent finding's severity (0 without any), to rank deals in SQL.
    top_severity = models.PositiveSmallIntegerField(default=0)
    discreet_top_severity = models.PositiveSmallIntegerField(default=0)
    stuck_days = models.PositiveIntegerField(null=True)
    overdue_days = models.PositiveIntegerField(null=True)
    forced_missing = models.PositiveSmallIntegerField(null=True)
    # The reasons of stuck / overdue / forced, as {"stuck": {"zh": .., "en": ..}, ...}.
    flags = models.JSONField(default=dict)

    class Meta:
        indexes = [
            models.Index(fields=["computed_for"]),  # kam refresh: what is not for today
            models.Index(fields=["rules_version"]),  # kam refresh: what other rules made
            # The funnel review's "deals to look at", worst first: few deals are flagged,
            # so partial indexes hold just them (docs/performance.md has the plan).
            *(
                models.Index(
                    fields=[flag],
                    condition=models.Q(**{f"{flag}__isnull": False}),
                    name=f"dealfigures_{flag}",
                )
                for flag in ("stuck_days", "overdue_days", "forced_missing")
            ),
        ]

    def __str__(self):
        return f"figures of opportunity {self.opportunity_id} ({self.computed_for})"


class AccountFigures(models.Model):
    """One account's stored coach findings (as everyone sees them, and without the insider)."""

    account = models.OneToOneField(
        Account, on_delete=models.CASCADE, primary_key=True, related_name="figures"
    )
    rules_version = models.CharField(max_length=16)
    computed_for = models.DateField()
    findings = models.JSONField(default=list)
    discreet_findings = models.JSONField(default=list)

    class Meta:
        indexes = [
            models.Index(fields=["computed_for"]),
            models.Index(fields=["rules_version"]),
        ]

    def __str__(self):
        return f"figures of account {self.account_id} ({self.computed_for})"


# ---------------------------------------------------------------------------
# Translating records into the method's values. Callers prefetch what these read
# (see ``OPPORTUNITY_PREFETCH``) so a list of deals costs a constant number of queries.
# ---------------------------------------------------------------------------

OPPORTUNITY_PREFETCH = (
    "buying_center__contact__familiarities__user",
    "evidence__by",
    "overrides__by",
)


def contact_brain(contact: Contact) -> types.BrainScores | None:
    """The contact's whole-brain profile from the phrases heard and the direct scores."""
    if not contact.brain_phrases and not contact.brain_direct:
        return None
    profile = whole_brain.profile(
        phrase_ids=contact.brain_phrases,
        direct={types.Quadrant(q): float(v) for q, v in contact.brain_direct.items()} or None,
    )
    return profile.as_brain()


def contact_to_person(contact: Contact, entry: "BuyingCenterEntry | None" = None) -> types.Person:
    """The contact as the method sees them, in one deal's buying center when ``entry`` is given."""
    return person_of(
        contact,
        entry,
        our_people=tuple((f.user.get_username(), f.strength) for f in contact.familiarities.all()),
    )


def person_of(contact, entry=None, *, our_people: tuple) -> types.Person:
    """A ``Person`` from a contact's fields, its buying-center entry's (``roles``,
    ``influence``, ``attitude``, ``strength``, ``insider``) and who of us knows them
    as ``(username, strength)``: model instances or plain rows alike (the stored
    figures load rows in bulk, see ``kam.sales.figures``)."""
    best = max((s for _name, s in our_people), default=types.Strength.NONE)
    return types.Person(
        id=str(contact.pk),
        name=contact.name,
        title=contact.title,
        roles=entry.roles if entry else frozenset(),
        influence=types.Influence(entry.influence) if entry else types.Influence.MEDIUM,
        attitude=types.Attitude(entry.attitude) if entry else types.Attitude.NEUTRAL,
        strength=types.Strength(entry.strength if entry else best),
        insider=entry.insider if entry else False,
        reports_to=str(contact.reports_to_id) if contact.reports_to_id else None,
        leadership_member=contact.leadership_member,
        brain=contact_brain(contact),
        our_people=tuple((name, types.Strength(s)) for name, s in our_people),
    )


def opportunity_to_deal(opportunity: Opportunity) -> types.Deal:
    """The opportunity as a ``kam.method.types.Deal`` with its buying center and evidence."""
    return deal_of(
        opportunity,
        owner=opportunity.owner.get_username(),
        collective_decision=opportunity.account.collective_decision,
        people=[
            (
                e.contact,
                e,
                tuple((f.user.get_username(), f.strength) for f in e.contact.familiarities.all()),
            )
            for e in opportunity.buying_center.all()
            if e.contact.deleted_at is None  # in the recycle bin: out until restored
        ],
        evidence=[(e.node, e.by.get_username(), e.on, e.note) for e in opportunity.evidence.all()],
        overrides=[
            (o.from_stage, o.to_stage, o.missing, o.reason, o.by.get_username(), o.on)
            for o in opportunity.overrides.all()
        ],
    )


def deal_of(
    opportunity, *, owner: str, collective_decision: bool, people, evidence, overrides
) -> types.Deal:
    """A ``Deal`` from an opportunity's fields (a model instance or a plain row), its
    owner's user name, its account's collective decision, its live buying center as
    ``(contact, entry, our_people)`` (see ``person_of``), its evidence as ``(node, by,
    on, note)`` and its overrides as ``(from, to, missing, reason, by, on)``.

    Contacts in the buying center who report to someone outside it are shown
    reporting to nobody: the org chart of a deal is the part we have mapped.
    """
    mapped = {str(contact.pk) for contact, _entry, _known in people}
    persons = []
    for contact, entry, known in people:
        person = person_of(contact, entry, our_people=known)
        if person.reports_to not in mapped:
            person = replace(person, reports_to=None)
        persons.append(person)
    return types.Deal(
        id=str(opportunity.pk),
        name=opportunity.name,
        amount=opportunity.amount,
        stage=types.Stage(opportunity.stage),
        outcome=types.Outcome(opportunity.outcome),
        expected_close=opportunity.expected_close,
        stage_entered_on=opportunity.stage_entered_on,
        created_on=opportunity.created_at.date() if opportunity.created_at else None,
        closed_on=opportunity.closed_on,
        grade=types.Grade(opportunity.grade) if opportunity.grade else None,
        owner=owner,
        evidence=tuple(types.Evidence(*e) for e in evidence),
        overrides=tuple(
            types.Override(
                types.Stage(from_stage), types.Stage(to_stage), tuple(missing), reason, by, on
            )
            for from_stage, to_stage, missing, reason, by, on in overrides
        ),
        people=tuple(persons),
        collective_decision=collective_decision,
        competitors=tuple(c.strip() for c in opportunity.competitors.splitlines() if c.strip()),
        proposal_emphasis=types.Quadrant(opportunity.proposal_emphasis)
        if opportunity.proposal_emphasis
        else None,
        source=types.LeadSource(opportunity.source) if opportunity.source else None,
    )


def activity_to_method(activity: Activity) -> types.Activity:
    """Callers prefetch ``contacts``."""
    return types.Activity(
        id=str(activity.pk),
        kind=types.ActivityKind(activity.kind),
        on=activity.on,
        contact_ids=frozenset(str(c.pk) for c in activity.contacts.all()),
        cost=activity.cost,
        notes=activity.notes,
        next_step=activity.next_step,
        next_pretext=activity.next_pretext,
        next_on=activity.next_on,
        by=str(activity.owner_id),
    )
