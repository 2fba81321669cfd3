"""Which column holds which field, and what its values mean.

Five kinds of records are imported: ``accounts``, ``contacts``,
``opportunities``, ``activities`` and ``off-funnel-orders``. Each has fields:
the names of ``kam.sales.models`` plus a few that point at other records
(``account``, ``account_external_id``, ``opportunity``, ``owner``, ...).

A column is matched to a field by, in this order:

1. ``--map COLUMN=FIELD`` (``--map COLUMN=`` ignores a column);
2. the field's own name, its label in English and Chinese, and the aliases of
   ``ALIASES``: Chinese headers (客户名称, 金额, 预计成交日期, 阶段, 负责人 ...) and
   the export names of Salesforce (Name, AccountId, Amount, CloseDate,
   StageName, LeadSource, IsWon, ...) and Odoo (name, partner_name,
   expected_revenue, date_deadline, stage_id, user_id, ...).

Names are compared without case, spaces or punctuation (``Close Date``,
``close_date`` and ``CloseDate`` are one name). When several columns give the
same field, a row takes the first of them that is not empty: ``--map`` columns
in the order given, then the others in the order of the aliases (for an
account's region, ``BillingState`` before ``BillingCity``). A column matching
nothing is reported once and ignored.

Values are matched the same way: every choice accepts KAM's value and its
English and Chinese labels, plus the names other systems use (``STAGES``,
``OUTCOMES``, ``LEAD_SOURCES``, ...); ``--map-value FIELD:VALUE=VALUE`` adds
more. The stage table (the user guide shows it too):

==========================================================  ===========
other systems' stage                                         KAM
==========================================================  ===========
Prospecting, Qualification, New (Odoo), Appointment sched.   1
Needs Analysis, Qualified (Odoo), Qualified to buy           2
Value Proposition, Id. Decision Makers, Perception Analysis,  3
Proposition (Odoo), Presentation scheduled
Proposal/Price Quote, Quote, Proposal made, 报价               4
Negotiation/Review, Negotiation, Contract sent, 谈判           5
Closed Won, Won, 赢单, 成交, 签约                              won (stage 6)
Closed Lost, Lost, 输单, 丢单                                  lost
放弃, Abandoned                                               abandoned
==========================================================  ===========
"""

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext as _

from kam.imports.values import BadValue, key
from kam.sales import models as sales

# ---------------------------------------------------------------------------
# Fields of each kind
# ---------------------------------------------------------------------------

# How a field's text is read (see ``kam.imports.run``):
LINE, TEXT, AMOUNT, DATE, BOOL, CHOICE, CURRENCY = (
    "line",
    "text",
    "amount",
    "date",
    "bool",
    "choice",
    "currency",
)
STAGE, OUTCOME, USER, TEAM, REF, NAMES = "stage", "outcome", "user", "team", "ref", "names"


@dataclass(frozen=True)
class Field:
    """One thing a row can say: a model field (``model=True``) or a reference
    the importer resolves (an account by name, an owner by name, ...)."""

    name: str
    type: str
    aliases: tuple[str, ...] = ()
    model: bool = True


@dataclass(frozen=True)
class Kind:
    """A kind of record the importer writes."""

    name: str
    model: type
    fields: tuple[Field, ...]
    # Fields a row must give (a column or --default); a tuple inside means "one of".
    required: tuple = ()

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


_OWNER = Field(
    "owner",
    USER,
    (
        "owner",
        "owner name",
        "owner id",
        "owner email",
        "account owner",
        "opportunity owner",
        "assigned to",
        "user_id",
        "salesperson",
        "sales rep",
        "负责人",
        "销售",
        "销售代表",
        "销售员",
        "客户经理",
        "业务员",
        "跟进人",
        "所有人",
        "归属人",
    ),
    model=False,
)
_TEAM = Field(
    "team", TEAM, ("team", "sales team", "team_id", "团队", "销售团队", "所属团队"), False
)
_ACCOUNT = Field(
    "account",
    REF,
    (
        "account",
        "account name",
        "company",
        "company name",
        "customer",
        "customer name",
        "organization",
        "partner_name",
        "partner_id",
        "partner",
        "客户名称",
        "客户",
        "公司名称",
        "公司",
        "单位名称",
        "单位",
        "企业名称",
        "所属客户",
        "客户全称",
    ),
    model=False,
)
_ACCOUNT_EXTERNAL_ID = Field(
    "account_external_id",
    REF,
    ("account id", "account external id", "客户编号", "客户编码"),
    model=False,
)
_EXTERNAL_ID = Field("external_id", LINE, ("id", "external id", "外部编号", "外部ID"))
_CURRENCY = Field(
    "currency", CURRENCY, ("currency", "currency iso code", "currency_id", "币种", "货币")
)

ACCOUNTS = Kind(
    "accounts",
    sales.Account,
    (
        Field(
            "name",
            LINE,
            (
                "name",
                "account name",
                "company",
                "company name",
                "customer",
                "customer name",
                "organization",
                "客户名称",
                "客户",
                "公司名称",
                "公司",
                "单位名称",
                "单位",
                "企业名称",
                "客户全称",
            ),
        ),
        Field(
            "external_id",
            LINE,
            ("id", "account id", "external id", "外部编号", "客户编号", "客户编码"),
        ),
        Field("industry", LINE, ("industry", "industry_id", "行业", "所属行业", "行业类别")),
        Field(
            "region",
            LINE,
            (
                "region",
                "state",
                "province",
                "billing state",
                "shipping state",
                "state_id",
                "city",
                "billing city",
                "shipping city",
                "地区",
                "区域",
                "所在地区",
                "省份",
                "省",
                "城市",
                "所在城市",
            ),
        ),
        Field("scale", CHOICE, ("scale", "size", "company size", "规模", "企业规模", "客户规模")),
        Field(
            "ownership", CHOICE, ("ownership", "企业性质", "所有制", "单位性质", "客户性质", "性质")
        ),
        Field("collective_decision", BOOL, ("collective decision", "三重一大", "集体决策")),
        Field("grade", CHOICE, ("grade", "客户等级", "客户分级", "等级", "分级")),
        Field("funding_notes", TEXT, ("funding", "资金状况", "资金")),
        Field("credit_notes", TEXT, ("credit", "信用", "信誉", "信用状况", "付款记录")),
        Field("business", TEXT, ("business", "主营业务", "经营范围", "业务")),
        Field("innovation_goals", TEXT, ("技术创新目标", "创新目标")),
        Field("products_in_use", TEXT, ("在用产品", "使用产品")),
        Field("decision_process", TEXT, ("决策流程", "采购流程")),
        Field("latent_needs", TEXT, ("潜在需求",)),
        Field("lifecycle", CHOICE, ("lifecycle", "生命周期")),
        Field("relationship_type", CHOICE, ("relationship type", "关系类型")),
        Field("relationship_level", CHOICE, ("relationship level", "关系层次", "关系等级")),
        _OWNER,
        _TEAM,
    ),
    required=("name",),
)

CONTACTS = Kind(
    "contacts",
    sales.Contact,
    (
        Field(
            "name",
            LINE,
            (
                "name",
                "full name",
                "contact name",
                "contact_name",
                "姓名",
                "联系人",
                "联系人姓名",
                "名字",
            ),
        ),
        Field(
            _ACCOUNT.name,
            REF,
            (*_ACCOUNT.aliases, "parent_id", "commercial_company_name", "所属公司"),
            model=False,
        ),
        _ACCOUNT_EXTERNAL_ID,
        Field("external_id", LINE, ("id", "contact id", "external id", "外部编号")),
        Field(
            "title",
            LINE,
            ("title", "job title", "function", "position", "职位", "职务", "岗位", "头衔"),
        ),
        Field("department", LINE, ("department", "部门", "所在部门")),
        Field(
            "phone",
            LINE,
            (
                "phone",
                "mobile",
                "mobile phone",
                "work phone",
                "telephone",
                "电话",
                "手机",
                "手机号",
                "联系电话",
                "办公电话",
            ),
        ),
        Field(
            "email",
            LINE,
            ("email", "e-mail", "email address", "email_from", "邮箱", "电子邮件", "邮件"),
        ),
        Field("wechat", LINE, ("wechat", "weixin", "微信", "微信号")),
        Field(
            "leadership_member", BOOL, ("leadership member", "领导班子", "领导班子成员", "班子成员")
        ),
        Field("notes", TEXT, ("notes", "note", "description", "comment", "备注", "说明")),
        # For an account the row creates.
        _OWNER,
        _TEAM,
    ),
    required=(("account", "account_external_id"), "name"),
)

OPPORTUNITIES = Kind(
    "opportunities",
    sales.Opportunity,
    (
        Field(
            "name",
            LINE,
            (
                "name",
                "opportunity name",
                "opportunity",
                "deal",
                "deal name",
                "商机名称",
                "商机",
                "项目名称",
                "项目",
                "机会名称",
                "销售机会",
                "名称",
            ),
        ),
        _ACCOUNT,
        _ACCOUNT_EXTERNAL_ID,
        Field(
            "external_id",
            LINE,
            ("id", "opportunity id", "deal id", "external id", "外部编号", "商机编号"),
        ),
        Field(
            "amount",
            AMOUNT,
            (
                "amount",
                "deal amount",
                "value",
                # Not expected_revenue: Odoo's is the amount, Salesforce's the weighted amount.
                "planned_revenue",
                "金额",
                "商机金额",
                "预计金额",
                "合同金额",
                "预计销售额",
                "销售金额",
                "总金额",
            ),
        ),
        _CURRENCY,
        Field(
            "expected_close",
            DATE,
            (
                "expected close",
                "expected close date",
                "close date",
                "date_deadline",
                "deadline",
                "预计成交日期",
                "预计签约日期",
                "预计结单日期",
                "预计签单日期",
                "预计成交时间",
            ),
        ),
        Field(
            "closed_on",
            DATE,
            (
                "closed on",
                "date closed",
                "closed date",
                "date_closed",
                "成交日期",
                "结单日期",
                "签约日期",
            ),
        ),
        Field(
            "stage",
            STAGE,
            ("stage", "stage name", "stage_id", "deal stage", "阶段", "销售阶段", "商机阶段"),
        ),
        Field(
            "outcome", OUTCOME, ("outcome", "status", "result", "结果", "状态", "商机状态", "输赢")
        ),
        Field("is_won", BOOL, ("is won", "won"), model=False),
        Field("is_closed", BOOL, ("is closed", "closed"), model=False),
        Field(
            "close_reason",
            TEXT,
            (
                "close reason",
                "loss reason",
                "lost reason",
                "lost_reason_id",
                "reason lost",
                "丢单原因",
                "输单原因",
                "失败原因",
                "关闭原因",
            ),
        ),
        Field(
            "source",
            CHOICE,
            ("source", "lead source", "source_id", "来源", "线索来源", "商机来源", "客户来源"),
        ),
        Field("grade", CHOICE, ("grade", "等级", "商机等级", "分级")),
        Field("competitors", TEXT, ("competitors", "competitor", "竞争对手", "主要竞争对手")),
        Field("stage_entered_on", DATE, ("stage entered on", "进入阶段日期", "阶段开始日期")),
        _OWNER,
        _TEAM,
    ),
    required=(("account", "account_external_id"), "name"),
)

ACTIVITIES = Kind(
    "activities",
    sales.Activity,
    (
        Field(
            "kind",
            CHOICE,
            (
                "kind",
                "type",
                "activity type",
                "activity_type_id",
                "task subtype",
                "类型",
                "活动类型",
                "拜访方式",
                "跟进方式",
                "方式",
            ),
        ),
        Field(
            "on",
            DATE,
            (
                "date",
                "activity date",
                "日期",
                "拜访日期",
                "活动日期",
                "跟进日期",
                "拜访时间",
                "时间",
            ),
        ),
        _ACCOUNT,
        _ACCOUNT_EXTERNAL_ID,
        Field(
            "opportunity",
            REF,
            ("opportunity", "opportunity name", "deal", "商机", "商机名称", "项目", "项目名称"),
            False,
        ),
        Field("opportunity_external_id", REF, ("opportunity id",), False),
        Field(
            "contacts", NAMES, ("contacts", "contact", "contact name", "联系人", "拜访对象"), False
        ),
        Field(
            "notes",
            TEXT,
            (
                "notes",
                "note",
                "description",
                "subject",
                "comments",
                "summary",
                "备注",
                "内容",
                "拜访内容",
                "沟通内容",
                "跟进内容",
                "拜访记录",
                "记录",
                "纪要",
                "摘要",
            ),
        ),
        Field("cost", AMOUNT, ("cost", "expense", "费用", "花费", "成本", "招待费用")),
        Field("next_step", TEXT, ("next step", "下一步", "下一步计划", "后续计划")),
        Field(
            "next_pretext",
            LINE,
            ("pretext", "next pretext", "下次拜访借口", "下次拜访理由", "借口"),
        ),
        Field(
            "next_on",
            DATE,
            (
                "next visit",
                "next visit on",
                "next date",
                "下次拜访日期",
                "下次拜访时间",
                "下次跟进日期",
            ),
        ),
        _OWNER,
        # For an account the row creates.
        _TEAM,
    ),
    required=(("account", "account_external_id"), "kind", "on"),
)

OFF_FUNNEL_ORDERS = Kind(
    "off-funnel-orders",
    sales.OffFunnelOrder,
    (
        _ACCOUNT,
        _ACCOUNT_EXTERNAL_ID,
        Field(
            "amount",
            AMOUNT,
            ("amount", "order amount", "amount_total", "金额", "订单金额", "销售额", "合同金额"),
        ),
        _CURRENCY,
        Field(
            "on",
            DATE,
            ("date", "order date", "date_order", "日期", "订单日期", "下单日期", "成交日期"),
        ),
        Field("note", LINE, ("note", "notes", "description", "备注", "说明")),
        _OWNER,
        # For an account the row creates.
        _TEAM,
    ),
    required=(("account", "account_external_id"), "amount", "on"),
)

KINDS: dict[str, Kind] = {
    k.name: k for k in (ACCOUNTS, CONTACTS, OPPORTUNITIES, ACTIVITIES, OFF_FUNNEL_ORDERS)
}


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name.strip().lower().replace("_", "-")]
    except KeyError:
        raise BadValue(
            _("Unknown kind %(kind)s: import one of %(kinds)s.")
            % {"kind": name, "kinds": ", ".join(KINDS)}
        ) from None


def model_has(model, name: str) -> bool:
    """Whether ``model`` stores a field ``name`` (accounts and contacts keep an
    external id only once the data model has one)."""
    return any(f.name == name for f in model._meta.concrete_fields)


def usable_fields(kind: Kind) -> tuple[Field, ...]:
    """The kind's fields that the installed data model can store."""
    return tuple(f for f in kind.fields if not f.model or model_has(kind.model, f.name))


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------

_WON = ("won", "closed won", "赢单", "赢", "成交", "已成交", "签约", "已签约", "签单", "中标")
_LOST = ("lost", "closed lost", "输单", "丢单", "输", "失败", "丢失", "未中标")
_ABANDONED = ("abandoned", "closed abandoned", "放弃", "已放弃")

OUTCOMES: dict[str, tuple[str, ...]] = {
    sales.Outcome.OPEN: ("open", "active", "pipeline", "进行中", "跟进中", "未关闭"),
    sales.Outcome.WON: _WON,
    sales.Outcome.LOST: _LOST,
    sales.Outcome.ABANDONED: _ABANDONED,
}

# KAM stage -> names in other systems; "won", "lost", "abandoned" are outcomes.
STAGES: dict[int | str, tuple[str, ...]] = {
    1: (
        "development",
        "开发",
        "开发阶段",
        "prospecting",  # Salesforce
        "qualification",  # Salesforce
        "new",  # Odoo
        "lead in",  # Pipedrive
        "appointment scheduled",  # HubSpot
        "初步接洽",
        "初步沟通",
        "线索",
    ),
    2: (
        "sales entry",
        "entry",
        "销售进入",
        "销售进入阶段",
        "needs analysis",  # Salesforce
        "qualified",  # Odoo
        "qualified to buy",  # HubSpot
        "contact made",  # Pipedrive
        "需求确认",
        "需求确定",
        "需求分析",
    ),
    3: (
        "proposal",
        "提案",
        "提案阶段",
        "value proposition",  # Salesforce
        "id decision makers",  # Salesforce
        "perception analysis",  # Salesforce
        "proposition",  # Odoo
        "presentation scheduled",  # HubSpot
        "needs defined",  # Pipedrive
        "方案",
        "方案阶段",
        "方案制定",
    ),
    4: (
        "tender",
        "投标",
        "投标阶段",
        "招标",
        "proposal price quote",  # Salesforce
        "quote",
        "quotation",
        "proposal made",  # Pipedrive
        "decision maker bought in",  # HubSpot
        "报价",
        "报价阶段",
    ),
    5: (
        "negotiation",
        "商务谈判",
        "商务谈判阶段",
        "谈判",
        "negotiation review",  # Salesforce
        "negotiations started",  # Pipedrive
        "contract sent",  # HubSpot
        "合同谈判",
        "谈判审核",
    ),
    6: ("implementation", "工程实施", "工程实施阶段", "实施"),
    sales.Outcome.WON: _WON,
    sales.Outcome.LOST: _LOST,
    sales.Outcome.ABANDONED: _ABANDONED,
}

LEAD_SOURCES: dict[str, tuple[str, ...]] = {
    sales.LeadSource.INDUSTRY_MEDIA: (
        "行业媒体",
        "媒体",
        "advertisement",
        "public relations",
        "广告",
    ),
    sales.LeadSource.SEARCH_ENGINE: (
        "搜索引擎",
        "search engine",
        "web",
        "website",
        "网站",
        "官网",
        "网络",
    ),
    sales.LeadSource.SALES_PEER: ("销售同行", "同行", "partner", "合作伙伴", "渠道"),
    sales.LeadSource.TRADE_SHOW: (
        "行业展会",
        "展会",
        "trade show",
        "seminar internal",
        "seminar partner",
        "seminar",
        "研讨会",
    ),
    sales.LeadSource.EXISTING_CUSTOMER: ("老客户", "existing customer", "现有客户", "客户"),
    sales.LeadSource.REFERRAL: (
        "熟人介绍",
        "介绍",
        "转介绍",
        "referral",
        "employee referral",
        "external referral",
        "partner referral",
        "word of mouth",
        "口碑",
    ),
    sales.LeadSource.OTHER: (
        "其他",
        "other",
        "purchased list",
        "phone inquiry",
        "电话咨询",
        "购买名单",
    ),
}

ACTIVITY_KINDS: dict[str, tuple[str, ...]] = {
    sales.ActivityKind.VISIT: ("拜访", "上门拜访", "面访", "走访", "visit"),
    sales.ActivityKind.CALL: (
        "电话",
        "通话",
        "打电话",
        "call",
        "phone",
        "phone call",
        "log a call",
    ),
    sales.ActivityKind.MEETING: ("会议", "会面", "开会", "meeting", "event"),
    sales.ActivityKind.EMAIL: ("邮件", "email", "e-mail", "mail"),
    sales.ActivityKind.SITE_VISIT: ("参观", "参观考察", "考察", "site visit"),
    sales.ActivityKind.ENTERTAINMENT: ("招待", "宴请", "entertainment", "dinner", "lunch"),
    sales.ActivityKind.GIFT: ("礼品", "送礼", "gift"),
}

OWNERSHIP: dict[str, tuple[str, ...]] = {
    sales.Account.Ownership.CENTRAL_SOE: ("央企", "中央企业", "中央国企"),
    sales.Account.Ownership.LOCAL_SOE: ("地方国企", "地方国有企业"),
    sales.Account.Ownership.PRIVATE: ("民营", "民企", "私营", "民营企业", "private"),
    sales.Account.Ownership.FOREIGN: ("外资", "外企", "合资", "外商投资", "foreign"),
    sales.Account.Ownership.PUBLIC_INSTITUTION: ("事业单位", "机关", "政府"),
    # Salesforce's picklist says listed or not, which is not KAM's question.
    sales.Account.Ownership.OTHER: ("其他", "public", "subsidiary"),
}

SCALES: dict[str, tuple[str, ...]] = {
    sales.Account.Scale.SMALL: ("小型", "小"),
    sales.Account.Scale.MEDIUM: ("中型", "中"),
    sales.Account.Scale.LARGE: ("大型", "大"),
    sales.Account.Scale.GROUP: ("集团", "集团公司"),
}

LIFECYCLES = {
    sales.Lifecycle.INCUBATION: ("孕育", "孕育期"),
    sales.Lifecycle.TRANSACTION: ("交易", "交易期"),
    sales.Lifecycle.COOPERATION: ("合作", "合作期"),
}
RELATIONSHIP_TYPES = {
    sales.RelationshipType.OUTSIDER: ("局外人",),
    sales.RelationshipType.FRIEND: ("朋友",),
    sales.RelationshipType.SUPPLIER: ("供应商",),
    sales.RelationshipType.PARTNER: ("合作伙伴",),
}
RELATIONSHIP_LEVELS = {
    sales.RelationshipLevel.PRICE: ("price", "价格"),
    sales.RelationshipLevel.SERVICE: ("service", "服务", "个性化服务"),
    sales.RelationshipLevel.MUTUAL_BENEFIT: ("mutual benefit", "互利", "互惠"),
}

# (kind's model, field) -> extra names of its choices
CHOICE_ALIASES = {
    "source": LEAD_SOURCES,
    "kind": ACTIVITY_KINDS,
    "ownership": OWNERSHIP,
    "scale": SCALES,
    "lifecycle": LIFECYCLES,
    "relationship_type": RELATIONSHIP_TYPES,
    "relationship_level": RELATIONSHIP_LEVELS,
}


def _labels(label) -> tuple[str, ...]:
    names = []
    for language in ("en", "zh-hans"):
        with translation.override(language):
            names.append(str(label))
    return tuple(names)


def choice_table(model, name: str) -> dict[str, object]:
    """``key(name) -> stored value`` for a choice field: its values, its labels in
    both languages and the names of ``CHOICE_ALIASES``; the first claim of a name wins."""
    table: dict[str, object] = {}
    model_field = model._meta.get_field(name)
    for value, label in model_field.choices:
        for text in (str(value), *_labels(label)):
            table.setdefault(key(text), value)
    for value, names in CHOICE_ALIASES.get(name, {}).items():
        stored = model_field.to_python(value.value if hasattr(value, "value") else value)
        for text in names:
            table.setdefault(key(text), stored)
    return table


def stage_table() -> dict[str, tuple[int | None, str | None]]:
    """``key(name) -> (stage, outcome)``: a stage 1-5 is open at that stage, stage 6 and
    the won names are won at stage 6, lost and abandoned keep whatever stage they had."""
    table: dict[str, tuple[int | None, str | None]] = {}
    for stage, label in sales.Stage.choices:
        meaning = (stage, sales.Outcome.WON if stage == sales.Stage.IMPLEMENTATION else None)
        for text in (str(stage), *_labels(label)):
            table.setdefault(key(text), meaning)
    for stage, names in STAGES.items():
        if isinstance(stage, int):
            meaning = (stage, sales.Outcome.WON if stage == sales.Stage.IMPLEMENTATION else None)
        elif stage == sales.Outcome.WON:
            meaning = (int(sales.Stage.IMPLEMENTATION), str(stage))
        else:
            meaning = (None, str(stage))
        for text in names:
            table.setdefault(key(text), meaning)
    return table


def outcome_table() -> dict[str, str]:
    table = {k: str(v) for k, v in choice_table(sales.Opportunity, "outcome").items()}
    for outcome, names in OUTCOMES.items():
        for text in names:
            table.setdefault(key(text), str(outcome))
    return table


# ---------------------------------------------------------------------------
# Columns
# ---------------------------------------------------------------------------


@dataclass
class ColumnMap:
    """Which columns give each field, in the order a row tries them."""

    kind: Kind
    fields: dict[str, list[str]] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)

    def column_of(self, name: str) -> str:
        columns = self.fields.get(name) or []
        return columns[0] if columns else ""


def header_index(kind: Kind) -> dict[str, tuple[str, int]]:
    """``key(header) -> (field, rank)`` for the kind: field names first, then
    labels, then aliases; a lower rank is tried first when columns compete."""
    index: dict[str, tuple[str, int]] = {}
    fields = usable_fields(kind)
    for f in fields:
        index.setdefault(key(f.name), (f.name, 0))
    for f in fields:
        if f.model:
            for text in _labels(kind.model._meta.get_field(f.name).verbose_name):
                index.setdefault(key(text), (f.name, 1))
    for f in fields:
        for rank, text in enumerate(f.aliases, start=2):
            index.setdefault(key(text), (f.name, rank))
    return index


def map_columns(kind: Kind, columns: list[str], explicit: Mapping[str, str] | list) -> ColumnMap:
    """Match the file's ``columns`` to the kind's fields; ``explicit`` holds the
    ``--map`` pairs (column, field) in the order given. Raises ``BadValue`` for a
    ``--map`` naming a column the file lacks or a field the kind lacks."""
    pairs = list(explicit.items()) if isinstance(explicit, Mapping) else list(explicit)
    usable = {f.name for f in usable_fields(kind)}
    by_key = {key(c): c for c in reversed(columns)}
    result = ColumnMap(kind)
    taken: set[str] = set()
    for column, target in pairs:
        found = column if column in columns else by_key.get(key(column))
        if found is None:
            raise BadValue(
                _("--map %(column)s: the file has no column %(column)s; its columns: %(columns)s.")
                % {"column": column, "columns": ", ".join(columns)}
            )
        taken.add(found)
        if not target.strip():
            result.ignored.append(found)
            continue
        name = next((n for n in usable if key(n) == key(target)), None)
        if name is None:
            raise BadValue(
                _(
                    "--map %(column)s=%(field)s: %(kind)s have no field %(field)s; "
                    "the fields: %(fields)s."
                )
                % {
                    "column": column,
                    "field": target,
                    "kind": kind.name,
                    "fields": ", ".join(f.name for f in usable_fields(kind)),
                }
            )
        result.fields.setdefault(name, []).append(found)
    index = header_index(kind)
    automatic = []
    for position, column in enumerate(columns):
        if column in taken:
            continue
        hit = index.get(key(column))
        if hit is None:
            result.unknown.append(column)
        else:
            automatic.append((hit[1], position, hit[0], column))
    for _rank, _position, name, column in sorted(automatic):
        result.fields.setdefault(name, []).append(column)
    return result


def missing_required(kind: Kind, columns: ColumnMap, defaults: Mapping[str, str]) -> list[str]:
    """The required fields that no column and no --default gives, as text for a message."""
    missing = []
    for need in kind.required:
        names = need if isinstance(need, tuple) else (need,)
        names = tuple(n for n in names if n in {f.name for f in usable_fields(kind)})
        if not any(n in columns.fields or n in defaults for n in names):
            missing.append(_(" or ").join(names))
    return missing
