"""The demo data set (`kam demo`): a coatings and ready-mix concrete supplier
(工业涂料/防腐涂料, 商品混凝土) selling to state-owned contractors, chemical
plants, power and water utilities and steel mills, as in the source texts.

Two steps, so that what is loaded can be checked without loading it:

- ``build_demo(today=...)`` plans every record as unsaved model instances.
  It is deterministic: one ``random.Random(SEED)`` draws everything, dates are
  counted back from ``today``, and nothing is iterated in hash order, so the
  same ``today`` and settings give the same records in any process.
- ``load_demo(today=...)`` is the action that writes the plan in one
  transaction, with one history row (source ``demo``) per top-level record.

Nothing here decides a rule of the method: stages are reached through
``process.advance`` (a deal forced past a key node gets the override the method
records), grades come from ``screening.grade`` with the win probability of
``probability.probability``, leads are scored and decided by ``screening``,
and an account's relationship type and lifecycle come from ``relationship``.
The demo only chooses what a sales team would have typed in.

Every demo user's password is ``DEMO_PASSWORD``; the ``demo`` command refuses to
create them outside demo mode (see ``kam.sales.management.commands.demo``).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from kam.history.models import Change
from kam.history.record import snapshot
from kam.method import probability, process, relationship, screening, types
from kam.method.relationship import TRUST_ACTIONS
from kam.method.settings import DEFAULT_SETTINGS, MethodSettings
from kam.method.types import Attitude, Influence, Outcome, Quadrant, Role, Stage, Strength
from kam.method.whole_brain import phrases_of
from kam.org.models import CompanySettings, Membership, Team
from kam.sales import figures
from kam.sales.models import (
    Account,
    Activity,
    BuyingCenterEntry,
    Contact,
    Familiarity,
    InsiderClaim,
    KeyNodeEvidence,
    Lead,
    OffFunnelOrder,
    Opportunity,
    StageOverride,
    Target,
    TrustActionDone,
)

SEED = 2026
DEMO_PASSWORD = "kam-demo"

N_ACTIVITIES = 1500
N_OFF_FUNNEL = 150
N_LEADS = 60
N_CONTACTS = 200
MAX_AMOUNT = Decimal(8_000_000)
MIN_AMOUNT = Decimal(50_000)

# ---------------------------------------------------------------------------
# Who we are: three teams, eight people
# ---------------------------------------------------------------------------

EAST, NORTH, SOUTHWEST = "华东大客户部", "华北大客户部", "西南大客户部"
TEAMS = (EAST, NORTH, SOUTHWEST)


@dataclass(frozen=True)
class DemoUser:
    """One login of the demo. ``role`` is admin, manager or rep."""

    username: str
    surname: str
    given: str
    role: str
    teams: tuple[str, ...] = ()
    title: str = ""

    @property
    def full_name(self) -> str:
        return self.surname + self.given


USERS = (
    DemoUser("zhaomin", "赵", "敏", "admin", (), "系统管理员"),
    DemoUser("zhangqiang", "张", "强", "manager", (EAST, NORTH), "销售总监"),
    DemoUser("chenjing", "陈", "静", "manager", (SOUTHWEST,), "西南区销售经理"),
    DemoUser("wangwei", "王", "伟", "rep", (EAST,), "大客户经理"),
    DemoUser("lifang", "李", "芳", "rep", (EAST,), "大客户经理"),
    DemoUser("liuyang", "刘", "洋", "rep", (NORTH,), "大客户经理"),
    DemoUser("zhaolei", "赵", "磊", "rep", (NORTH,), "大客户经理"),
    DemoUser("huangmin", "黄", "敏", "rep", (SOUTHWEST,), "大客户经理"),
)
USERS_BY_NAME = {u.username: u for u in USERS}


def logins() -> list[tuple[str, str, str]]:
    """``(username, name, role)`` of every demo login, for the command and the README."""
    rows = []
    for u in USERS:
        if u.role == "admin":
            role = "administrator (sees everything)"
        elif u.role == "manager":
            role = f"manager of {', '.join(u.teams)}"
        else:
            role = f"sales rep in {', '.join(u.teams)}"
        rows.append((u.username, u.full_name, role))
    return rows


# ---------------------------------------------------------------------------
# Our customers: 40 fictional organisations
# ---------------------------------------------------------------------------

CONSTRUCTION, CHEMICAL, POWER, WATER, STEEL = "建筑施工", "化工", "电力", "水务", "钢铁"
COATING, CONCRETE, BOTH = "coating", "concrete", "both"
OWN = Account.Ownership
SIZE = Account.Scale


@dataclass(frozen=True)
class AccountSeed:
    """A customer of the demo: who they are and which of our products they buy."""

    code: str  # for e-mail domains
    name: str
    short: str
    industry: str
    province: str
    city: str
    scale: str
    ownership: str
    collective: bool
    products: str
    owner: str


ACCOUNTS = (
    # 华东大客户部
    AccountSeed("sjjg", "申江建工集团有限公司", "申江建工", CONSTRUCTION, "上海", "上海",
                SIZE.GROUP, OWN.LOCAL_SOE, True, BOTH, "wangwei"),
    AccountSeed("hdlq", "沪东路桥建设集团有限公司", "沪东路桥", CONSTRUCTION, "上海", "上海",
                SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "wangwei"),
    AccountSeed("jlcj", "金陵城建第三工程有限公司", "金陵城建三公司", CONSTRUCTION, "江苏",
                "南京", SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "wangwei"),
    AccountSeed("yfhg", "扬帆精细化工有限公司", "扬帆化工", CHEMICAL, "江苏", "常州",
                SIZE.MEDIUM, OWN.PRIVATE, False, COATING, "lifang"),
    AccountSeed("dhsh", "东海石化储运有限公司", "东海储运", CHEMICAL, "浙江", "宁波",
                SIZE.LARGE, OWN.LOCAL_SOE, True, COATING, "wangwei"),
    AccountSeed("qtrd", "钱塘热电有限公司", "钱塘热电", POWER, "浙江", "杭州",
                SIZE.MEDIUM, OWN.LOCAL_SOE, True, COATING, "lifang"),
    AccountSeed("zjsw", "之江水务集团有限公司", "之江水务", WATER, "浙江", "杭州",
                SIZE.LARGE, OWN.LOCAL_SOE, True, BOTH, "lifang"),
    AccountSeed("hhgt", "淮海钢铁股份有限公司", "淮海钢铁", STEEL, "江苏", "徐州",
                SIZE.LARGE, OWN.LOCAL_SOE, True, COATING, "wangwei"),
    AccountSeed("lzjg", "庐州建工集团有限公司", "庐州建工", CONSTRUCTION, "安徽", "合肥",
                SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "lifang"),
    AccountSeed("drhx", "德润化学(南通)有限公司", "德润化学", CHEMICAL, "江苏", "南通",
                SIZE.MEDIUM, OWN.FOREIGN, False, COATING, "lifang"),
    AccountSeed("jhfd", "江淮发电有限责任公司", "江淮发电", POWER, "安徽", "淮南",
                SIZE.LARGE, OWN.CENTRAL_SOE, True, COATING, "lifang"),
    AccountSeed("ygmt", "甬港码头建设有限公司", "甬港码头", CONSTRUCTION, "浙江", "宁波",
                SIZE.MEDIUM, OWN.LOCAL_SOE, False, BOTH, "wangwei"),
    AccountSeed("thsw", "太湖水务发展有限公司", "太湖水务", WATER, "江苏", "无锡",
                SIZE.MEDIUM, OWN.LOCAL_SOE, True, BOTH, "wangwei"),
    AccountSeed("hstg", "华晟特钢有限公司", "华晟特钢", STEEL, "江苏", "江阴",
                SIZE.LARGE, OWN.PRIVATE, False, COATING, "lifang"),
    # 华北大客户部
    AccountSeed("jhcj", "京华城建集团有限公司", "京华城建", CONSTRUCTION, "北京", "北京",
                SIZE.GROUP, OWN.LOCAL_SOE, True, CONCRETE, "liuyang"),
    AccountSeed("bftj", "北方铁建第五工程局有限公司", "北方铁建五局", CONSTRUCTION, "天津",
                "天津", SIZE.GROUP, OWN.CENTRAL_SOE, True, BOTH, "liuyang"),
    AccountSeed("jhhg", "津海化工集团有限公司", "津海化工", CHEMICAL, "天津", "天津",
                SIZE.LARGE, OWN.LOCAL_SOE, True, COATING, "liuyang"),
    AccountSeed("jdrd", "冀东热电有限公司", "冀东热电", POWER, "河北", "唐山",
                SIZE.MEDIUM, OWN.CENTRAL_SOE, True, COATING, "zhaolei"),
    AccountSeed("jbgt", "冀北钢铁集团有限公司", "冀北钢铁", STEEL, "河北", "唐山",
                SIZE.GROUP, OWN.LOCAL_SOE, True, COATING, "zhaolei"),
    AccountSeed("fhsw", "汾河水务集团有限公司", "汾河水务", WATER, "山西", "太原",
                SIZE.LARGE, OWN.LOCAL_SOE, True, BOTH, "liuyang"),
    AccountSeed("jyjh", "晋阳焦化有限公司", "晋阳焦化", CHEMICAL, "山西", "太原",
                SIZE.MEDIUM, OWN.PRIVATE, False, COATING, "liuyang"),
    AccountSeed("bhwg", "渤海湾港口建设有限公司", "渤海湾港建", CONSTRUCTION, "天津", "天津",
                SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "liuyang"),
    AccountSeed("jbxn", "京北新能源发电有限公司", "京北新能源", POWER, "河北", "张家口",
                SIZE.MEDIUM, OWN.CENTRAL_SOE, True, COATING, "zhaolei"),
    AccountSeed("smsz", "石门市政工程集团有限公司", "石门市政", CONSTRUCTION, "河北",
                "石家庄", SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "zhaolei"),
    AccountSeed("hdjx", "海岱精细化工有限公司", "海岱化工", CHEMICAL, "山东", "淄博",
                SIZE.MEDIUM, OWN.PRIVATE, False, COATING, "zhaolei"),
    AccountSeed("qcgps", "泉城供排水有限公司", "泉城供排水", WATER, "山东", "济南",
                SIZE.MEDIUM, OWN.LOCAL_SOE, True, BOTH, "zhaolei"),
    AccountSeed("hfgg", "沧州海丰钢管有限公司", "海丰钢管", STEEL, "河北", "沧州",
                SIZE.MEDIUM, OWN.PRIVATE, False, COATING, "liuyang"),
    # 西南大客户部
    AccountSeed("sdjg", "蜀都建工集团有限公司", "蜀都建工", CONSTRUCTION, "四川", "成都",
                SIZE.GROUP, OWN.LOCAL_SOE, True, CONCRETE, "chenjing"),
    AccountSeed("bylq", "巴渝路桥集团有限公司", "巴渝路桥", CONSTRUCTION, "重庆", "重庆",
                SIZE.LARGE, OWN.LOCAL_SOE, True, BOTH, "huangmin"),
    AccountSeed("xntj", "西南铁建第二工程有限公司", "西南铁建二公司", CONSTRUCTION, "四川",
                "成都", SIZE.LARGE, OWN.CENTRAL_SOE, True, CONCRETE, "chenjing"),
    AccountSeed("cnhg", "川南天然气化工有限公司", "川南化工", CHEMICAL, "四川", "泸州",
                SIZE.LARGE, OWN.LOCAL_SOE, True, COATING, "huangmin"),
    AccountSeed("mjsd", "岷江水电开发有限公司", "岷江水电", POWER, "四川", "乐山",
                SIZE.LARGE, OWN.CENTRAL_SOE, True, BOTH, "chenjing"),
    AccountSeed("scsw", "山城水务集团有限公司", "山城水务", WATER, "重庆", "重庆",
                SIZE.GROUP, OWN.LOCAL_SOE, True, BOTH, "huangmin"),
    AccountSeed("pxgt", "攀西钒钛钢铁有限公司", "攀西钢铁", STEEL, "四川", "攀枝花",
                SIZE.LARGE, OWN.LOCAL_SOE, True, COATING, "chenjing"),
    AccountSeed("qzlh", "黔中磷化工有限公司", "黔中磷化", CHEMICAL, "贵州", "贵阳",
                SIZE.MEDIUM, OWN.PRIVATE, False, COATING, "huangmin"),
    AccountSeed("dcsw", "滇池环保水务有限公司", "滇池水务", WATER, "云南", "昆明",
                SIZE.MEDIUM, OWN.LOCAL_SOE, False, BOTH, "huangmin"),
    AccountSeed("zcjs", "筑城建设集团有限公司", "筑城建设", CONSTRUCTION, "贵州", "贵阳",
                SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "huangmin"),
    AccountSeed("wjfd", "乌江发电有限公司", "乌江发电", POWER, "贵州", "遵义",
                SIZE.LARGE, OWN.CENTRAL_SOE, True, COATING, "huangmin"),
    AccountSeed("ccgd", "春城轨道交通建设有限公司", "春城轨交", CONSTRUCTION, "云南", "昆明",
                SIZE.LARGE, OWN.LOCAL_SOE, True, CONCRETE, "huangmin"),
    AccountSeed("yxhg", "渝西化工新材料有限公司", "渝西新材料", CHEMICAL, "重庆", "重庆",
                SIZE.MEDIUM, OWN.FOREIGN, False, COATING, "huangmin"),
)  # fmt: skip

TEAM_OF_PROVINCE = {
    **dict.fromkeys(("上海", "江苏", "浙江", "安徽"), EAST),
    **dict.fromkeys(("北京", "天津", "河北", "山西", "山东"), NORTH),
    **dict.fromkeys(("四川", "重庆", "贵州", "云南"), SOUTHWEST),
}
SOE = (OWN.CENTRAL_SOE, OWN.LOCAL_SOE)

# Prospects that are not customers yet: the companies of leads never converted.
PROSPECTS = (
    ("临港新材料产业园开发有限公司", CONSTRUCTION, "上海"),
    ("皖江精细化工有限公司", CHEMICAL, "安徽"),
    ("运河水务有限公司", WATER, "江苏"),
    ("瓯江热电有限公司", POWER, "浙江"),
    ("锡山特种钢管有限公司", STEEL, "江苏"),
    ("姑苏轨道交通建设有限公司", CONSTRUCTION, "江苏"),
    ("舟山绿色石化配套有限公司", CHEMICAL, "浙江"),
    ("冀中能源化工有限公司", CHEMICAL, "河北"),
    ("滨海新区市政建设有限公司", CONSTRUCTION, "天津"),
    ("雄安城市建设工程有限公司", CONSTRUCTION, "河北"),
    ("晋北风电有限公司", POWER, "山西"),
    ("鲁中钢铁有限公司", STEEL, "山东"),
    ("京南污水处理有限公司", WATER, "北京"),
    ("沂蒙化工有限公司", CHEMICAL, "山东"),
    ("天府新区建设投资有限公司", CONSTRUCTION, "四川"),
    ("嘉陵江航电开发有限公司", POWER, "重庆"),
    ("遵义铝业有限公司", STEEL, "贵州"),
    ("曲靖煤化工有限公司", CHEMICAL, "云南"),
    ("绵阳供排水有限公司", WATER, "四川"),
    ("黔东南路桥建设有限公司", CONSTRUCTION, "贵州"),
)

# ---------------------------------------------------------------------------
# The people at a customer: positions, who reports to whom, how they talk
# ---------------------------------------------------------------------------

DM, TECH, BUYER, USER = Role.DECISION_MAKER, Role.TECHNICAL, Role.PURCHASER, Role.USER


@dataclass(frozen=True)
class Position:
    """A post in a customer's organisation chart and what it usually means in a deal.

    ``level`` is 3 for the leadership, 2 for heads of department, 1 for staff: the
    default influence, which a few people do not follow (title is not role).
    """

    key: str
    title: str
    department: str
    parent: str | None
    quadrant: Quadrant
    level: int
    roles: tuple[Role, ...] = ()
    leadership: bool = False


_TOP = (
    Position("chair", "党委书记、董事长", "公司领导", None, Quadrant.D, 3, (DM,), True),
    Position("gm", "总经理", "公司领导", "chair", Quadrant.D, 3, (DM,), True),
    Position("vgm", "副总经理", "公司领导", "gm", Quadrant.B, 3, (DM, USER), True),
    Position("chief_eng", "总工程师", "公司领导", "gm", Quadrant.A, 3, (TECH,), True),
    Position("cfo", "财务总监", "财务部", "gm", Quadrant.A, 3, (BUYER,), True),
)
_OFFICE = (
    Position("office_head", "办公室主任", "综合办公室", "gm", Quadrant.C, 2),
    Position("clerk", "办公室文员", "综合办公室", "office_head", Quadrant.C, 1),
    Position("accountant", "会计", "财务部", "cfo", Quadrant.A, 1, (BUYER,)),
)
PLANT_POSITIONS = (
    *_TOP,
    Position("proc_mgr", "采购部经理", "采购部", "vgm", Quadrant.A, 2, (BUYER,)),
    Position("equip_head", "设备科科长", "设备科", "chief_eng", Quadrant.B, 2, (TECH, USER)),
    Position("workshop", "车间主任", "生产部", "vgm", Quadrant.B, 2, (USER,)),
    Position("safety", "安全环保部部长", "安全环保部", "vgm", Quadrant.B, 2, (USER,)),
    Position("tech", "技术员", "设备科", "equip_head", Quadrant.A, 1, (TECH, USER)),
    Position("buyer", "采购专员", "采购部", "proc_mgr", Quadrant.B, 1, (BUYER,)),
    *_OFFICE,
)
CONTRACTOR_POSITIONS = (
    *_TOP,
    Position("proc_mgr", "物资部部长", "物资部", "vgm", Quadrant.A, 2, (BUYER,)),
    Position("pm", "项目经理", "项目部", "vgm", Quadrant.D, 2, (USER,)),
    Position("pm_eng", "项目总工", "项目部", "pm", Quadrant.A, 2, (TECH, USER)),
    Position("lab", "试验室主任", "试验室", "chief_eng", Quadrant.A, 2, (TECH,)),
    Position("material", "材料员", "项目部", "pm", Quadrant.B, 1, (USER, BUYER)),
    Position("buyer", "采购专员", "物资部", "proc_mgr", Quadrant.B, 1, (BUYER,)),
    *_OFFICE,
)
PARENT_POST = {p.key: p.parent for p in (*CONTRACTOR_POSITIONS, *PLANT_POSITIONS)}
# Who comes first when an account has few contacts on record.
PRIORITY = ("chief_eng", "proc_mgr", "equip_head", "pm", "vgm", "workshop", "pm_eng", "cfo")
# Titles differ by industry; the meaning of the post does not.
TITLE_BY_INDUSTRY = {
    (POWER, "workshop"): ("运行部主任", "运行部"),
    (WATER, "workshop"): ("水厂厂长", "制水分公司"),
    (POWER, "equip_head"): ("设备部部长", "设备部"),
    (WATER, "equip_head"): ("管网所所长", "管网所"),
    (STEEL, "workshop"): ("炼钢厂厂长", "炼钢厂"),
}
SOE_TITLES = {"cfo": ("总会计师", "财务部")}


def _syllables(text: str) -> tuple[str, ...]:
    """Characters with their pinyin, e.g. ``王wang``: the pinyin makes e-mail addresses."""
    return tuple(text.split())


SURNAMES = _syllables(
    "王wang 李li 张zhang 刘liu 陈chen 杨yang 黄huang 赵zhao 吴wu 周zhou 徐xu 孙sun 马ma "
    "朱zhu 胡hu 郭guo 何he 高gao 林lin 罗luo 郑zheng 梁liang 谢xie 宋song 唐tang 许xu "
    "韩han 冯feng 邓deng 曹cao 彭peng 曾zeng 肖xiao 田tian 董dong 袁yuan 潘pan 于yu "
    "蒋jiang 蔡cai 余yu 杜du 叶ye 程cheng 苏su 魏wei 吕lv 丁ding 任ren 沈shen 姚yao "
    "卢lu 姜jiang 崔cui 钟zhong 谭tan 陆lu 汪wang 范fan 金jin 石shi 廖liao 贾jia 夏xia "
    "韦wei 方fang 白bai 邹zou 孟meng 熊xiong 秦qin 邱qiu 江jiang 尹yin 薛xue 段duan "
    "雷lei 侯hou 龙long 史shi 陶tao 贺he 顾gu 毛mao 郝hao 龚gong 邵shao 万wan 钱qian "
    "严yan 武wu 戴dai 孔kong 汤tang"
)
GIVEN = _syllables(
    "伟wei 芳fang 娜na 敏min 静jing 丽li 强qiang 磊lei 军jun 洋yang 勇yong 艳yan 杰jie "
    "娟juan 涛tao 明ming 超chao 秀xiu 霞xia 平ping 刚gang 桂gui 英ying 华hua 建jian "
    "国guo 文wen 辉hui 力li 鹏peng 斌bin 宇yu 浩hao 凯kai 健jian 俊jun 帆fan 旭xu "
    "宁ning 峰feng 志zhi 红hong 海hai 波bo 晨chen 东dong 亮liang 飞fei 新xin 春chun "
    "雪xue 梅mei 兰lan 琳lin 玲ling 婷ting 燕yan 慧hui 德de 成cheng 永yong 胜sheng "
    "振zhen 荣rong 卫wei 嘉jia 天tian 立li 云yun 晓xiao 雨yu 欣xin 佳jia 思si 宏hong "
    "正zheng 博bo 瑞rui 安an"
)

PERSONAL_NOTES = (
    "喜欢钓鱼,周末常去水库。",
    "女儿今年高考,最近比较忙。",
    "老家四川,爱吃辣。",
    "退伍军人,说话直来直去,最看重守信。",
    "爱打羽毛球,每周三晚上在厂里体育馆。",
    "化工学院毕业,和我司技术总监是校友。",
    "刚从兄弟单位调来,还在熟悉情况。",
    "明年可能退居二线,接班人还不明确。",
    "喜欢看行业技术期刊,对新工艺很感兴趣。",
    "不喝酒,不宜安排饭局,可以约喝茶。",
    "对价格非常敏感,每次都要详细报价单。",
)

# ---------------------------------------------------------------------------
# Deals: what we sell to whom, and why deals end
# ---------------------------------------------------------------------------

PLACES = ("城东", "城北", "高新区", "滨江", "开发区", "南湖", "临港", "西城", "空港新区", "北岸")
PROJECTS = {
    (CONSTRUCTION, CONCRETE): (
        "地铁{n}号线{m}标段C50商品混凝土供应",
        "{place}安置房项目C30商品混凝土供应",
        "{place}跨江大桥承台及墩身C40混凝土",
        "{place}隧道二衬C35混凝土供应",
        "{place}产业园厂房基础混凝土",
        "{place}综合管廊C35P8抗渗混凝土",
        "{place}医院新院区主体结构混凝土",
        "{place}保障房二期商品混凝土年度供应",
    ),
    (CONSTRUCTION, COATING): (
        "{place}钢结构桥梁重防腐涂装",
        "{place}会展中心钢结构防火涂料",
        "{place}产业园钢结构厂房防腐涂料",
    ),
    (CHEMICAL, COATING): (
        "{n}万吨/年装置钢结构防腐涂装",
        "罐区{m}台储罐外壁防腐翻新",
        "管廊防腐涂料年度采购",
        "循环水冷却塔内壁防腐",
        "{m}#厂房钢结构防火涂料",
        "污水处理站池体防腐",
    ),
    (CHEMICAL, CONCRETE): ("新建罐区基础及围堰混凝土",),
    (POWER, COATING): (
        "#{m}机组脱硫吸收塔防腐",
        "冷却塔防腐翻新",
        "输煤栈桥钢结构涂装",
        "风机塔筒防腐涂料",
        "压力钢管内壁防腐",
        "升压站钢构架防腐维护",
    ),
    (POWER, CONCRETE): ("灰场扩建工程混凝土", "引水隧洞衬砌混凝土"),
    (WATER, COATING): (
        "DN{dn}输水管道内外防腐",
        "污水处理厂生化池防腐涂层",
        "清水池环氧内衬涂装",
        "泵站钢闸门防腐维护",
    ),
    (WATER, CONCRETE): (
        "污水处理厂扩建工程混凝土供应",
        "净水厂二期构筑物C30P8混凝土",
        "{place}调蓄池工程抗渗混凝土",
    ),
    (STEEL, COATING): (
        "高炉煤气管道防腐",
        "焦炉区钢结构耐高温涂料",
        "冷轧厂房钢结构涂装",
        "钢管外防腐配套涂料年度框架",
        "烧结机烟道耐温防腐",
    ),
    (STEEL, CONCRETE): ("料场封闭改造基础混凝土",),
}
COMPETITORS = {
    COATING: ("金盾涂料", "华彩防腐", "海工涂装科技", "东方漆业", "永固化工"),
    CONCRETE: ("城西商砼", "鑫达混凝土", "恒基建材", "宏远搅拌站"),
}
LOST_REASONS = (
    "价格比中标方高8%,评标时价格分落后。",
    "技术人坚持沿用原供应商的涂层体系,技术标被扣分。",
    "竞争对手提前介入,采购指标按对方产品参数制定。",
    "内线调岗,信息中断,没能及时调整方案。",
    "客户改由上级集团集中采购,我们不在入围名单。",
    "供应半径超出客户要求,运距太远被否决。",
    "领导班子集体决策时倾向老供应商,我们没有覆盖到分管副总。",
)
ABANDONED_REASONS = (
    "客户回款记录差,应收账款风险过高,主动放弃。",
    "项目金额缩减,已不值得投入。",
    "客户需要的耐温等级我们的产品做不到。",
    "项目立项被上级集团否决,暂停。",
    "资金没有落实,项目无限期推迟。",
)
# Why a seller pushed a deal on without a key node, by the node skipped.
FORCE_REASONS = {
    "need_confirmed": "客户催着要方案,需求细节还没确认,先推进。",
    "budget_confirmed": "客户要求本周内报价,预算批复还在走流程,先按报价推进。",
    "schedule_confirmed": "项目时间表还没定,领导交代先进入供应商考察。",
    "grade_given": "来不及做风险评估,客户已邀请我们去考察。",
    "insider_found": "项目进度紧,内线还没找到,先与设备科做技术交流。",
    "key_people_identified": "客户直接发来技术规格书,关键人还没理清,先做方案。",
    "criteria_reflect_strengths": "采购指标已定稿,来不及再影响,直接投标。",
    "proposal_accepted_by_technical": "客户已发布招标预告,技术方案还未获总工认可,先准备投标。",
    "bid_submitted": "客户取消公开招标,直接邀请我方商务谈判。",
    "shortlisted": "入围名单未公布,客户采购部已约谈价格。",
}
FORCE_REASON_OTHERWISE = "客户推进很快,关键节点来不及落实,先跟上客户的节奏。"
EVIDENCE_NOTES = {
    "need_confirmed": "客户确认{project}需求,已提交立项申请。",
    "budget_confirmed": "预算已列入年度投资计划,约{amount}万元。",
    "schedule_confirmed": "计划{month}月招标,随后开工。",
    "grade_given": "按客户风险评估表打分,并判断了客户级别。",
    "insider_found": "{insider}愿意提供项目进度和评标信息。",
    "key_people_identified": "决策人、技术选型人、采购人均已识别,组织结构图已画出。",
    "criteria_reflect_strengths": "技术规格书采纳了我方{strength}的指标。",
    "proposal_accepted_by_technical": "{technical}审查技术方案后签字认可。",
    "bid_submitted": "按时递交投标文件,技术标和商务标各一份。",
    "shortlisted": "技术标评审通过,进入商务谈判名单。",
    "contract_signed": "合同已双方盖章,付款方式为进度款加质保金。",
    "acceptance": "现场验收合格,客户签收验收单。",
    "payment": "已收到{percent}%合同款。",
}
STRENGTHS = {
    COATING: ("耐盐雾3000小时", "干膜厚度不小于280μm", "可带锈施工", "耐温400℃"),
    CONCRETE: ("供应半径30公里内", "24小时连续供货", "低水化热配合比", "抗渗等级P8"),
}
# What a rep adds in their own words when screening a lead.
LEAD_COMMENTS = {
    "pursue": ("客户资金已到位,技术要求和我们的产品很匹配。", "老客户追加项目,关系基础好。"),
    "nurture": ("项目还在论证,先保持联系。", "预算明年才下达,季度回访一次。"),
    "drop": ("客户欠款较多,风险太大。", "要求的耐温等级我们做不到。"),
}
CLAIM_NOTES = {
    types.InsiderFact.SCHEDULE: "下月中旬发招标公告,月底开标。",
    types.InsiderFact.BUDGET: "预算比去年多两成,上限已批。",
    types.InsiderFact.ORGANISATION: "这次由分管副总牵头,成立了评标小组。",
    types.InsiderFact.ROLES: "总工管技术标,采购部只管商务条款。",
    types.InsiderFact.KEY_PEOPLE: "真正拍板的是分管副总,总经理一般尊重他的意见。",
    types.InsiderFact.COMPETITORS: "另有两家在接触,其中一家报价很低。",
}

# ---------------------------------------------------------------------------
# Activities and the relationship
# ---------------------------------------------------------------------------

K = types.ActivityKind
ACTIVITY_KINDS = (K.VISIT, K.CALL, K.MEETING, K.EMAIL, K.SITE_VISIT, K.ENTERTAINMENT, K.GIFT)
ACTIVITY_WEIGHTS = (40, 24, 10, 8, 5, 8, 5)
ACTIVITY_NOTES = {
    K.VISIT: (
        "拜访{who},了解{project}的进展,对方关心交货周期和现场技术服务。",
        "拜访{who},介绍我司新一代产品,对方要了样板和检测报告。",
        "到现场看了{project}的施工条件,和{who}核对了技术要求。",
        "拜访{who},听取对上批货的使用意见,整体满意,提了两点改进。",
        "拜访{who},对方提到明年有新的改造计划,需要提前介入。",
    ),
    K.CALL: (
        "电话跟进{who},确认{project}的招标时间。",
        "电话询问{who}对报价的反馈,对方说还在内部比价。",
        "{who}来电问供货进度,已协调物流。",
        "电话约{who}下周见面。",
    ),
    K.MEETING: (
        "与{who}等人召开技术交流会,讲解施工工艺和质量控制。",
        "参加{project}的设计联络会,与{who}对接技术要求。",
        "与{who}开商务沟通会,讨论付款方式和质保条款。",
    ),
    K.EMAIL: (
        "给{who}发送技术方案和业绩清单。",
        "邮件发送报价单和检测报告给{who}。",
        "给{who}发会议纪要,确认下一步分工。",
    ),
    K.SITE_VISIT: (
        "邀请{who}一行参观我司工厂和检测中心。",
        "陪同{who}考察我司在邻市已运行五年的样板工程。",
    ),
    K.ENTERTAINMENT: (
        "项目阶段总结后请{who}等人吃饭,气氛融洽。",
        "技术交流后与{who}工作餐,聊了各自的老家和孩子。",
    ),
    K.GIFT: (
        "中秋节给{who}送月饼。",
        "给{who}送了行业年鉴和技术手册。",
        "端午节给{who}送粽子礼盒。",
    ),
}
NEXT_STEPS = (
    "整理技术参数对比表发给客户。",
    "安排技术工程师到现场做涂层检测。",
    "准备配合比试验报告。",
    "补充近三年同类业绩。",
    "约总工做一次技术交流。",
    "跟进招标文件的技术条款。",
    "请公司领导一起拜访分管副总。",
)
PRETEXTS = (
    "送涂层附着力检测报告",
    "带样板和色卡过去",
    "邀请参加新品技术交流会",
    "回访上次的修补效果",
    "送新版行业标准解读",
    "带技术工程师做现场检测",
    "送配合比试验报告",
    "约参观搅拌站",
    "送上次会议的纪要和答疑",
    "给车间送施工工艺卡",
)
TRUST_EVIDENCE = {
    "certification": "向采购部提交ISO 9001、ISO 14001和ISO 45001证书复印件。",
    "operations": "介绍我司质量管理体系和批次追溯制度。",
    "equipment": "展示生产线和检测中心的照片、设备清单。",
    "track_record": "提交近三年同类项目业绩清单。",
    "honours": "提交省级专精特新企业证书和行业协会荣誉。",
    "test_report": "提供国家级质量监督检验中心的产品检测报告。",
    "running_installation": "带客户参观已运行五年的储罐防腐和大桥承台项目。",
    "customer_reference": "请老客户的总工向对方总工推荐我们。",
    "factory_visit": "邀请设备科一行参观工厂和实验室。",
    "referral": "经行业协会秘书长引荐认识总经理。",
    "repeated_visits": "三个月内拜访六次,每次都约好下次拜访的由头。",
    "keep_promises": "承诺48小时内到现场处理问题,按时做到。",
    "problem_solving_expert": "帮客户分析涂层起泡的原因,提出修补方案。",
    "small_courtesies": "中秋节送月饼,项目结束后请项目部吃饭。",
    "confident_manner": "技术交流会上现场答疑,消除了对耐候性的顾虑。",
    "common_ground": "和对方总工都是化工学院校友,聊得投机。",
}
OFF_FUNNEL_NOTES = {
    COATING: ("补涂修补漆{n}kg", "零星防腐涂料补货", "检修用面漆{n}桶", "防火涂料补货{n}kg"),
    CONCRETE: ("零星混凝土C30 {n}方", "临时道路C25混凝土{n}方", "设备基础C35 {n}方"),
}

# ---------------------------------------------------------------------------
# The customer file (大客户档案), by industry
# ---------------------------------------------------------------------------

CUSTOMER_FILE = {
    CONSTRUCTION: (
        "房建、市政和轨道交通施工总承包,年施工产值约{n}亿元,在建项目{m}个。",
        "推广装配式建筑和绿色施工,降低混凝土损耗,提高钢结构耐久性。",
        "商品混凝土主要由两家本地搅拌站供应,高峰期供货不稳;钢结构防腐用国外品牌,价格偏高。",
        "项目部提需求,物资部组织招标,总工办审技术,重大采购经党委会、总经理办公会集体决策。",
        "冬季施工和夜间连续浇筑的保供能力;希望供应商接受较长账期。",
    ),
    CHEMICAL: (
        "精细化工生产企业,拥有{m}套生产装置和罐区,年产值约{n}亿元。",
        "装置防腐寿命从5年延长到10年,减少非计划停车。",
        "储罐和管廊使用环氧富锌加聚氨酯体系,沿海腐蚀严重,3年即出现锈蚀。",
        "设备科提出需求,总工程师定技术标准,采购部比价,总经理审批。",
        "检修窗口短,需要快干、可带锈施工的涂料和现场施工指导。",
    ),
    POWER: (
        "发电企业,装机容量约{n}0万千瓦,{m}台机组。",
        "超低排放改造后,脱硫系统的防腐要求提高。",
        "脱硫塔玻璃鳞片内衬部分区域鼓包脱落,每年检修都要修补。",
        "设备部立项,生技部技术把关,上级集团物资公司集中招标。",
        "机组检修期内完成施工,需要施工队伍和质量担保。",
    ),
    WATER: (
        "负责城区供水和污水处理,日处理能力约{n}0万吨。",
        "管网漏损率降到9%以下,推进智慧水务。",
        "输水管道内防腐用环氧煤沥青,卫生指标需要升级。",
        "工程部提需求,技术部审方案,经总经理办公会、党委会研究后公开招标。",
        "饮用水卫生许可批件;施工不能影响供水。",
    ),
    STEEL: (
        "年产钢约{n}00万吨,以板材和型材为主。",
        "超低排放改造,厂区钢结构全面防腐翻新。",
        "高温区涂料耐温不足,一年一补。",
        "设备处提需求,技术中心评价,供应处招标,公司领导审批。",
        "600℃以上的耐高温涂料;不停产施工。",
    ),
}
FUNDING_NOTES = {
    True: (
        "国有资金,项目资金纳入年度投资计划,付款需走审批流程。",
        "财政和专项债资金,到位时间受上级拨付影响。",
    ),
    False: ("自有资金为主,现金流较好。", "银行承兑汇票支付比例高,一般六个月期。"),
}
CREDIT_NOTES = (
    "历史回款及时,账期90天。",
    "回款偏慢,平均逾期45天,需关注应收账款。",
    "付款守约,质保金按期退还。",
    "年底集中付款,其他时间回款慢。",
)


# ---------------------------------------------------------------------------
# The plan
# ---------------------------------------------------------------------------


@dataclass
class DemoSet:
    """Every record of the demo, as model instances (saved once ``load_demo`` ran).

    Contacts carry their ``reports_to`` manager (written after the contacts, since
    both ends are new). ``activity_contacts`` and ``activity_participants`` are the
    rows of the activities' many-to-many tables.
    """

    today: dt.date
    teams: list = field(default_factory=list)
    users: list = field(default_factory=list)
    memberships: list = field(default_factory=list)
    accounts: list = field(default_factory=list)
    contacts: list = field(default_factory=list)
    familiarities: list = field(default_factory=list)
    trust_actions: list = field(default_factory=list)
    opportunities: list = field(default_factory=list)
    evidence: list = field(default_factory=list)
    overrides: list = field(default_factory=list)
    buying_center: list = field(default_factory=list)
    insider_claims: list = field(default_factory=list)
    leads: list = field(default_factory=list)
    off_funnel_orders: list = field(default_factory=list)
    activities: list = field(default_factory=list)
    activity_contacts: list = field(default_factory=list)
    activity_participants: list = field(default_factory=list)
    targets: list = field(default_factory=list)

    def fingerprint(self) -> str:
        """A digest of names, amounts, stages and dates; equal sets give equal digests."""
        return fingerprint(
            accounts=self.accounts,
            contacts=self.contacts,
            opportunities=self.opportunities,
            leads=self.leads,
            activities=self.activities,
            off_funnel_orders=self.off_funnel_orders,
            targets=self.targets,
        )


def fingerprint(
    *,
    accounts: Iterable[Account],
    contacts: Iterable[Contact],
    opportunities: Iterable[Opportunity],
    leads: Iterable[Lead],
    activities: Iterable[Activity],
    off_funnel_orders: Iterable[OffFunnelOrder],
    targets: Iterable[Target],
) -> str:
    """A digest of the records' names, amounts, stages and dates, in a stable order.

    Works on planned and on saved records alike (callers select the related
    owner, account, reports_to, user and team), so a database can be compared
    with a plan.
    """
    rows = [
        sorted(
            (a.name, a.owner.username, a.team.name, a.grade, a.lifecycle, a.relationship_type)
            for a in accounts
        ),
        sorted(
            (
                c.account.name,
                c.name,
                c.title,
                c.reports_to.name if c.reports_to else "",
                ",".join(c.brain_phrases),
            )
            for c in contacts
        ),
        sorted(
            (
                o.account.name,
                o.name,
                _cents(o.amount),
                o.stage,
                o.outcome,
                o.grade,
                str(o.expected_close),
                str(o.closed_on),
                str(o.stage_entered_on),
            )
            for o in opportunities
        ),
        sorted((ld.name, ld.company, ld.grade, ld.decision, _cents(ld.amount)) for ld in leads),
        sorted(
            (str(a.on), a.kind, a.account.name, a.owner.username, _cents(a.cost), a.next_pretext)
            for a in activities
        ),
        sorted((o.account.name, _cents(o.amount), str(o.on)) for o in off_funnel_orders),
        sorted(
            (t.user.username if t.user else t.team.name, str(t.start), _cents(t.amount))
            for t in targets
        ),
    ]
    return hashlib.sha256(repr(rows).encode()).hexdigest()


def _cents(amount: Decimal | None) -> str:
    # The database hands amounts back with two decimals; a plan may hold fewer.
    return "" if amount is None else f"{amount:.2f}"


@dataclass(eq=False)
class _Person:
    """A contact being planned, with what the plan needs to know about them."""

    key: str
    model: Contact
    position: Position
    leadership: bool


@dataclass(eq=False)
class _Deal:
    """An opportunity being planned: the model, its final method deal, its people."""

    model: Opportunity
    deal: types.Deal
    product: str
    people: list[_Person]
    insider: _Person | None
    start: dt.date
    end: dt.date


def build_demo(
    *,
    today: dt.date,
    settings: MethodSettings = DEFAULT_SETTINGS,
    fiscal_year_start_month: int = 1,
    currency: str = "CNY",
) -> DemoSet:
    """Plan the demo for ``today`` as unsaved records; the same arguments give the same plan.

    ``settings`` are the company's method settings: the key nodes the deals
    evidence, the screening rules, the off-funnel threshold. Targets cover the
    fiscal year containing ``today``, starting in ``fiscal_year_start_month``.
    """
    return _Builder(today, settings, fiscal_year_start_month, currency).build()


class _Builder:
    def __init__(self, today, settings, fiscal_year_start_month, currency):
        self.today = today
        self.settings = settings
        self.fy_month = fiscal_year_start_month
        self.currency = currency
        self.rng = random.Random(SEED)
        self.out = DemoSet(today=today)
        self.familiarity: dict[tuple[str, str], int] = {}
        self.used_names: set[str] = {u.full_name for u in USERS}
        self.first_order: dict[str, dt.date | None] = {}

    def build(self) -> DemoSet:
        self._org()
        self._accounts()
        self._contacts()
        self._deals()
        self._relationships()
        self._trust_actions()
        self._leads()
        self._off_funnel_orders()
        self._activities()
        self._targets()
        self._familiarities()
        return self.out

    # -- helpers -----------------------------------------------------------

    def _day(self, start: dt.date, end: dt.date) -> dt.date:
        """A day from ``start`` to ``end``, both included (``start`` when the range is empty)."""
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def _ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def _moment(self, day: dt.date) -> dt.datetime:
        minutes = self.rng.randint(8 * 60, 18 * 60)
        return timezone.make_aware(dt.datetime.combine(day, dt.time(minutes // 60, minutes % 60)))

    def _stamp(self, obj: models.Model, created: dt.date, updated: dt.date | None = None):
        obj.created_at = self._moment(created)
        obj.updated_at = self._moment(max(created, updated or created))

    def _name(self) -> tuple[str, str]:
        """A new Chinese name and its pinyin (surname first), unique in the demo."""
        while True:
            surname = self.rng.choice(SURNAMES)
            chars = self.rng.sample(GIVEN, self.rng.choice((1, 2, 2)))
            name = surname[0] + "".join(c[0] for c in chars)
            if name not in self.used_names:
                self.used_names.add(name)
                return name, surname[1:] + "".join(c[1:] for c in chars)

    def _money(self, low: float, high: float) -> Decimal:
        """A log-uniform amount, rounded as a quotation would be."""
        value = low * (high / low) ** self.rng.random()
        step = 10_000 if value >= 1_000_000 else 1_000 if value >= 50_000 else 100
        return Decimal(max(int(low), min(int(high), round(value / step) * step)))

    # -- who we are ----------------------------------------------------------

    def _org(self) -> None:
        user_model = get_user_model()
        self.teams = {name: Team(name=name) for name in TEAMS}
        self.out.teams = list(self.teams.values())
        self.users = {}
        for u in USERS:
            user = user_model(
                username=u.username,
                first_name=u.given,
                last_name=u.surname,
                email=f"{u.username}@demo.example.com",
                # Staff so that every demo user can sign in on the admin's login page.
                is_staff=True,
                is_superuser=u.role == "admin",
                date_joined=self._moment(self.today - dt.timedelta(days=400)),
            )
            self.users[u.username] = user
            self.out.users.append(user)
            role = Membership.Role.MANAGER if u.role == "manager" else Membership.Role.REP
            for team in u.teams:
                self.out.memberships.append(Membership(user=user, team=self.teams[team], role=role))
        self.manager_of = {
            team: self.users[u.username] for u in USERS if u.role == "manager" for team in u.teams
        }
        self.reps_of = {
            team: [self.users[u.username] for u in USERS if u.role == "rep" and team in u.teams]
            for team in TEAMS
        }

    # -- customers -----------------------------------------------------------

    def _accounts(self) -> None:
        self.accounts: dict[str, Account] = {}
        self.seeds: dict[str, AccountSeed] = {}
        for seed in ACCOUNTS:
            team = self.teams[TEAM_OF_PROVINCE[seed.province]]
            account = Account(
                name=seed.name,
                industry=seed.industry,
                region=f"{seed.province}·{seed.city}" if seed.province != seed.city else seed.city,
                scale=seed.scale,
                ownership=seed.ownership,
                collective_decision=seed.collective,
                owner=self.users[seed.owner],
                team=team,
            )
            self._stamp(account, self._ago(420, 900))
            self._customer_file(account, seed)
            self.accounts[seed.code] = account
            self.seeds[seed.code] = seed
            self.out.accounts.append(account)

    def _customer_file(self, account: Account, seed: AccountSeed) -> None:
        texts = CUSTOMER_FILE[seed.industry]
        n, m = self.rng.randint(3, 60), self.rng.randint(2, 9)
        filled = self.rng.random()
        # Most files are complete, some half done, a few not started: as in real life.
        count = 5 if filled < 0.65 else 2 if filled < 0.9 else 0
        for name, text in zip(Account.FILE_FIELDS[:count], texts, strict=False):
            setattr(account, name, text.format(n=n, m=m))
        if count:
            account.funding_notes = self.rng.choice(FUNDING_NOTES[seed.ownership in SOE])

    # -- people at the customers ---------------------------------------------

    def _contacts(self) -> None:
        self.people: dict[str, list[_Person]] = {}
        sizes = self._contact_counts()
        # A fifth of the customers buy on price and performance alone: we know their
        # people only in passing, so the relationship is a supplier's at best.
        codes = [s.code for s in ACCOUNTS]
        driven = set(self.rng.sample(codes, len(codes) // 5))
        self.price_driven = {code: code in driven for code in codes}
        serial = 0
        for seed, size in zip(ACCOUNTS, sizes, strict=True):
            account = self.accounts[seed.code]
            positions = self._positions(seed, size)
            chosen = {p.key for p in positions}
            people = []
            by_position = {}
            for position in positions:
                serial += 1
                person = self._person(f"c{serial}", seed, account, position)
                by_position[position.key] = person
                people.append(person)
            for person in people:
                boss = self._boss(person.position, chosen, positions[0].key)
                if boss is not None:
                    person.model.reports_to = by_position[boss].model
            self.people[seed.code] = people
            self._know(seed, people)

    def _contact_counts(self) -> list[int]:
        base = {SIZE.GROUP: 7, SIZE.LARGE: 5, SIZE.MEDIUM: 4, SIZE.SMALL: 3}
        sizes = [max(3, base[s.scale] + self.rng.randint(-1, 1)) for s in ACCOUNTS]
        i = 0
        while sum(sizes) != N_CONTACTS:
            step = 1 if sum(sizes) < N_CONTACTS else -1
            if 3 <= sizes[i] + step <= 9:
                sizes[i] += step
            i = (i + 7) % len(sizes)
        return sizes

    def _positions(self, seed: AccountSeed, size: int) -> list[Position]:
        catalogue = CONTRACTOR_POSITIONS if seed.industry == CONSTRUCTION else PLANT_POSITIONS
        if seed.ownership not in SOE:
            catalogue = tuple(p for p in catalogue if p.key != "chair")
        by_key = {p.key: p for p in catalogue}
        top = ["chair", "gm"] if "chair" in by_key else ["gm"]
        keys = top + [k for k in PRIORITY if k in by_key][: max(0, min(3, size - len(top)))]
        rest = [p.key for p in catalogue if p.key not in keys]
        keys += self.rng.sample(rest, size - len(keys))
        # Keep the catalogue's order: a manager is listed before the people under them.
        return [p for p in catalogue if p.key in keys]

    @staticmethod
    def _boss(position: Position, chosen: set[str], top: str) -> str | None:
        """The nearest post above on record; the top of the chart when none is."""
        if position.key == top:
            return None
        parent = position.parent
        while parent is not None and parent not in chosen:
            parent = PARENT_POST[parent]
        return parent or top

    def _person(self, key: str, seed: AccountSeed, account: Account, position: Position):
        title, department = position.title, position.department
        title, department = TITLE_BY_INDUSTRY.get(
            (seed.industry, position.key), (title, department)
        )
        if seed.ownership in SOE:
            title, department = SOE_TITLES.get(position.key, (title, department))
        if seed.ownership not in SOE and position.key == "gm" and self.rng.random() < 0.5:
            title = "董事长兼总经理"
        name, pinyin = self._name()
        rng = self.rng
        contact = Contact(
            account=account,
            name=name,
            title=title,
            department=department,
            leadership_member=seed.collective and position.leadership,
            phone=f"1{rng.choice('35789')}{rng.randint(0, 9)}{rng.randint(10**7, 10**8 - 1)}",
            email=f"{pinyin}@{seed.code}.example.com" if rng.random() < 0.8 else "",
            wechat=f"{pinyin}{rng.randint(10, 99)}" if rng.random() < 0.5 else "",
            notes=rng.choice(PERSONAL_NOTES) if rng.random() < 0.35 else "",
        )
        if position.key == "clerk" and rng.random() < 0.5:
            contact.notes = "开会时负责记录,对项目进度很清楚。"  # the best insider, maybe
        self._brain(contact, position.quadrant)
        self._stamp(contact, self._day(account.created_at.date(), self.today))
        self.out.contacts.append(contact)
        return _Person(key, contact, position, contact.leadership_member)

    def _brain(self, contact: Contact, usual: Quadrant) -> None:
        """Habitual phrases heard (惯用语), mostly of the post's usual quadrant."""
        roll = self.rng.random()
        if roll < 0.35:
            return
        dominant = usual if self.rng.random() < 0.75 else self.rng.choice(list(Quadrant))
        heard = self.rng.sample(phrases_of(dominant), self.rng.randint(2, 3))
        if self.rng.random() < 0.5:
            other = self.rng.choice([q for q in Quadrant if q is not dominant])
            heard.append(self.rng.choice(phrases_of(other)))
        contact.brain_phrases = [p.id for p in heard]
        if roll > 0.9:
            # A rep who knows the person well also scores them directly.
            contact.brain_direct = {
                q.value: (80 if q is dominant else self.rng.choice((20, 30, 40, 50)))
                for q in Quadrant
            }

    def _know(self, seed: AccountSeed, people: list[_Person]) -> None:
        """Which of our people know whom, and how well (a personal friendship level)."""
        owner = seed.owner
        team = TEAM_OF_PROVINCE[seed.province]
        manager = self.manager_of[team].username
        colleagues = [u.username for u in self.reps_of[team] if u.username != owner]
        levels = (1,) if self.price_driven[seed.code] else (1, 1, 1, 2, 2, 3)
        for p in people:
            if self.rng.random() < 0.55:
                self.familiarity[(p.key, owner)] = self.rng.choice(levels)
            if p.position.level == 3 and self.rng.random() < 0.3 and manager != owner:
                self.familiarity[(p.key, manager)] = self.rng.choice(levels[:3])
            if colleagues and self.rng.random() < 0.1:
                self.familiarity[(p.key, self.rng.choice(colleagues))] = 1

    def _best(self, person: _Person) -> Strength:
        known = [s for (key, _user), s in self.familiarity.items() if key == person.key]
        return Strength(max(known, default=0))

    # -- deals ---------------------------------------------------------------

    def _slots(self) -> list[tuple[Stage, Outcome, bool]]:
        """The stage, outcome and forcing of the 120 deals: every case is present."""
        open_ = [(1, 14), (2, 13), (3, 12), (4, 10), (5, 8)]
        lost = [(2, 4), (3, 5), (4, 9), (5, 4)]
        abandoned = [(1, 6), (2, 4), (3, 3)]
        slots = [(Stage(s), Outcome.OPEN, False) for s, n in open_ for _ in range(n)]
        slots += [(Stage.IMPLEMENTATION, Outcome.WON, False)] * 28
        slots += [(Stage(s), Outcome.LOST, False) for s, n in lost for _ in range(n)]
        slots += [(Stage(s), Outcome.ABANDONED, False) for s, n in abandoned for _ in range(n)]
        forced = {(Stage(2), Outcome.OPEN): 1, (Stage(3), Outcome.OPEN): 3}
        forced |= {(Stage(4), Outcome.OPEN): 3, (Stage(5), Outcome.OPEN): 3}
        forced |= {(Stage(4), Outcome.LOST): 1, (Stage(5), Outcome.LOST): 1}
        marked = []
        for stage, outcome, _forced in slots:
            left = forced.get((stage, outcome), 0)
            forced[(stage, outcome)] = left - 1
            marked.append((stage, outcome, left > 0))
        self.rng.shuffle(marked)
        return marked

    def _deal_accounts(self) -> list[str]:
        weight = {SIZE.GROUP: 4, SIZE.LARGE: 3, SIZE.MEDIUM: 2, SIZE.SMALL: 1}
        codes = [s.code for s in ACCOUNTS]
        picks = list(codes)
        while len(picks) < 120:
            code = self.rng.choices(codes, [weight[s.scale] for s in ACCOUNTS])[0]
            if picks.count(code) < 7:
                picks.append(code)
        self.rng.shuffle(picks)
        return picks

    def _deals(self) -> None:
        self.deals: list[_Deal] = []
        self.deals_of: dict[str, list[_Deal]] = {s.code: [] for s in ACCOUNTS}
        names: set[str] = set()
        threshold = self.settings.funnel.off_funnel_threshold
        low = float(max(MIN_AMOUNT, threshold))
        for serial, (code, (stage, outcome, forced)) in enumerate(
            zip(self._deal_accounts(), self._slots(), strict=True), start=1
        ):
            seed = self.seeds[code]
            product = (
                seed.products if seed.products != BOTH else self.rng.choice((COATING, CONCRETE))
            )
            project = self._project(seed, product)
            name = f"{seed.short}{project}"
            while name in names:
                name = f"{seed.short}{self._project(seed, product)}"
                if name in names:
                    name = f"{name}(二期)"
            names.add(name)
            high = 3_000_000 if product == COATING else float(MAX_AMOUNT)
            amount = self._money(max(low, 300_000 if product == CONCRETE else low), high)
            self._deal(serial, seed, name, project, amount, product, stage, outcome, forced)

    def _project(self, seed: AccountSeed, product: str) -> str:
        templates = PROJECTS[(seed.industry, product)]
        return self.rng.choice(templates).format(
            n=self.rng.randint(1, 12),
            m=self.rng.randint(1, 6),
            dn=self.rng.choice((1200, 1400, 1600, 1800)),
            place=self.rng.choice(PLACES),
        )

    def _timeline(self, stage: Stage, outcome: Outcome) -> tuple[list[dt.date], dt.date]:
        """Entry day of stages 1..stage (index 0 = stage 1) and the end: closing day or today."""
        durations = [self.rng.randint(12, 55) for _ in range(stage - 1)]
        if outcome is Outcome.OPEN:
            end = self.today
            last = self._ago(2, 130)
        elif outcome is Outcome.WON:
            end = self._ago(5, 360)
            last = end
        else:
            end = self._ago(5, 360)
            last = end - dt.timedelta(days=self.rng.randint(5, 60))
        entries = [last]
        for d in reversed(durations):
            entries.insert(0, entries[0] - dt.timedelta(days=d))
        return entries, end

    def _deal(self, serial, seed, name, project, amount, product, stage, outcome, forced):
        rng = self.rng
        account = self.accounts[seed.code]
        team = TEAM_OF_PROVINCE[seed.province]
        owner = self.users[seed.owner]
        if rng.random() < 0.1 and len(self.reps_of[team]) > 1:
            owner = rng.choice(self.reps_of[team])
        by = owner.username
        entries, end = self._timeline(stage, outcome)
        created = entries[0]
        if outcome is Outcome.OPEN:
            # Later stages are nearer to the order; a few are overdue.
            low, high = {1: (60, 330), 2: (30, 240), 3: (-20, 150), 4: (-20, 100)}.get(
                int(stage), (-25, 60)
            )
            expected = self.today + dt.timedelta(days=rng.randint(low, high))
        else:
            expected = end + dt.timedelta(days=rng.randint(-45, 30))
        deal = types.Deal(
            id=f"o{serial}",
            name=name,
            amount=amount,
            stage=Stage.DEVELOPMENT,
            expected_close=max(expected, created + dt.timedelta(days=30)),
            stage_entered_on=created,
            created_on=created,
            owner=by,
            collective_decision=seed.collective,
        )
        stages = self.settings.process.stages
        skip = None
        if forced:
            candidates = [s for s in range(1, min(stage, 5)) if stages[s - 1].key_nodes]
            skip = rng.choice(candidates) if candidates else None
        # Walk the deal through the method, stage by stage, as the rep would have.
        last_open = deal
        for s in range(1, stage):
            nodes = list(stages[s - 1].key_nodes)
            reason = None
            if s == skip:
                gone = rng.sample(nodes, 1 if len(nodes) < 3 else rng.randint(1, 2))
                nodes = [n for n in nodes if n not in gone]
                reason = FORCE_REASONS.get(gone[0].id, FORCE_REASON_OTHERWISE)
            deal = self._evidence(deal, nodes, entries[s - 1], entries[s], by)
            last_open = deal
            deal = process.advance(
                deal,
                on=entries[s],
                by=by,
                force_reason=reason,
                settings=self.settings.process,
            ).deal
        current = list(stages[stage - 1].key_nodes)
        if stage < Stage.IMPLEMENTATION and current:
            count = rng.choice(range(len(current))) if rng.random() < 0.85 else len(current)
            picked = sorted(rng.sample(range(len(current)), count))
            deal = self._evidence(deal, [current[i] for i in picked], entries[-1], end, by)
        elif outcome is Outcome.WON:
            deal = self._after_sale(deal, current, end, by)
        if outcome is not Outcome.WON:
            last_open = deal
        if outcome is Outcome.LOST:
            deal = process.close_lost(deal, reason=rng.choice(LOST_REASONS), on=end).deal
        elif outcome is Outcome.ABANDONED:
            deal = process.close_abandoned(deal, reason=rng.choice(ABANDONED_REASONS), on=end).deal

        competitors = rng.sample(COMPETITORS[product], rng.randint(0, 3 if stage > 1 else 1))
        opportunity = Opportunity(
            account=account,
            name=name,
            amount=amount,
            currency=self.currency,
            expected_close=deal.expected_close,
            stage=int(deal.stage),
            stage_entered_on=deal.stage_entered_on,
            outcome=deal.outcome.value,
            closed_on=deal.closed_on,
            close_reason=self._close_reason(outcome, rng),
            competitors="\n".join(competitors),
            source=rng.choice(list(types.LeadSource)).value if rng.random() < 0.85 else "",
            owner=owner,
            team=self.teams[team],
        )
        self._stamp(opportunity, created, deal.closed_on or deal.stage_entered_on)
        planned = _Deal(opportunity, deal, product, [], None, created, end)
        self._buying_center(planned, seed)
        on = self.today if deal.is_open else end
        # A closed deal keeps the grade it had when it was last open.
        graded_deal = deal if deal.is_open else last_open
        if "grade_given" in deal.evidenced_nodes or (
            deal.stage > Stage.DEVELOPMENT and not self._has_node("grade_given")
        ):
            opportunity.grade = self._grade(graded_deal, planned, on).value
        if deal.stage >= Stage.PROPOSAL and rng.random() < 0.6:
            opportunity.proposal_emphasis = rng.choice(list(Quadrant)).value
        self._write_process(planned, project, seed)
        self.out.opportunities.append(opportunity)
        self.deals.append(planned)
        self.deals_of[seed.code].append(planned)

    def _close_reason(self, outcome: Outcome, rng: random.Random) -> str:
        if outcome is Outcome.LOST:
            return rng.choice(LOST_REASONS)
        if outcome is Outcome.ABANDONED:
            return rng.choice(ABANDONED_REASONS)
        return ""

    def _has_node(self, node_id: str) -> bool:
        return any(n.id == node_id for d in self.settings.process.stages for n in d.key_nodes)

    def _evidence(self, deal, nodes, start, end, by) -> types.Deal:
        found = tuple(types.Evidence(n.id, by, self._day(start, end)) for n in nodes)
        return replace(deal, evidence=deal.evidence + found)

    def _after_sale(self, deal, nodes, closed, by) -> types.Deal:
        """Acceptance and payment come after the order is won, when time allows."""
        day = closed
        found = []
        for node in nodes:
            day = day + dt.timedelta(days=self.rng.randint(10, 60))
            if day > self.today or self.rng.random() < 0.2:
                break
            found.append(types.Evidence(node.id, by, day))
        return replace(deal, evidence=deal.evidence + tuple(found))

    def _grade(self, deal: types.Deal, planned: _Deal, on: dt.date) -> types.Grade:
        """The ABCD class screening gives the deal on ``on`` at its win probability."""
        s = self.settings
        chance = probability.probability(
            replace(deal, people=self._method_people(planned)),
            process_settings=s.process,
            buying_center_settings=s.buying_center,
            settings=s.probability,
        ).value
        return screening.grade(
            deal.expected_close, today=on, win_likelihood=chance, settings=s.screening
        )

    def _method_people(self, planned: _Deal) -> tuple[types.Person, ...]:
        entries = [e for e in self._entries if e.opportunity is planned.model]
        by_contact = {id(p.model): p for p in planned.people}
        return tuple(
            types.Person(
                id=by_contact[id(e.contact)].key,
                name=e.contact.name,
                title=e.contact.title,
                roles=e.roles,
                influence=Influence(e.influence),
                attitude=Attitude(e.attitude),
                strength=Strength(e.strength),
                insider=e.insider,
                leadership_member=e.contact.leadership_member,
            )
            for e in entries
        )

    @property
    def _entries(self) -> list[BuyingCenterEntry]:
        return self.out.buying_center

    def _buying_center(self, planned: _Deal, seed: AccountSeed) -> None:
        """Who is in the deal's buying center, in which role, how they stand to us."""
        rng = self.rng
        deal = planned.deal
        staff = self.people[seed.code]
        evidenced = deal.evidenced_nodes
        mapped = "key_people_identified" in evidenced or deal.stage >= Stage.PROPOSAL
        size = {1: (1, 3), 2: (2, 4)}.get(int(deal.stage), (3, 6))
        size = min(len(staff), rng.randint(*size))
        chosen: list[tuple[_Person, set[Role]]] = []

        def take(role: Role) -> None:
            holders = [p for p in staff if role in p.position.roles and p not in dict(chosen)]
            if role is DM and len(holders) > 1 and rng.random() < 0.2:
                holders = holders[1:]  # the deputy decides; the title at the top follows
            if holders:
                chosen.append((holders[0] if role is DM else rng.choice(holders), {role}))

        wanted = [DM, TECH, BUYER, USER] if mapped else rng.sample([DM, TECH, BUYER, USER], 2)
        for role in wanted:
            if len(chosen) < size or (mapped and role in (DM, TECH)):
                take(role)
        if seed.collective and mapped:
            leaders = [p for p in staff if p.leadership and p not in dict(chosen)]
            count = len(leaders) if deal.stage >= Stage.TENDER else rng.randint(0, len(leaders))
            chosen += [(p, set()) for p in leaders[:count]]
        others = [p for p in staff if p not in dict(chosen)]
        rng.shuffle(others)
        while len(chosen) < size and others:
            chosen.append((others.pop(), set()))
        insider = None
        if "insider_found" in evidenced:
            pool = [p for p, roles in chosen if DM not in roles] + others
            juniors = [p for p in pool if p.position.level == 1]
            insider = rng.choice(juniors if juniors and rng.random() < 0.4 else pool or staff)
            if insider not in dict(chosen):
                chosen.append((insider, set()))
            if not self.price_driven[seed.code]:
                # An insider who likes us; at a price-driven customer they gain from the deal.
                key = (insider.key, deal.owner)
                self.familiarity[key] = max(self.familiarity.get(key, 0), rng.choice((2, 2, 3)))
        technical_accepted = "proposal_accepted_by_technical" in evidenced
        # By the proposal stage a rep has usually won over the people who decide.
        worked = 0.85 if deal.outcome is Outcome.WON else 0.6
        if deal.stage < Stage.PROPOSAL or self.price_driven[seed.code]:
            worked = 0.0
        # The leadership decides as a group: each member is a decision maker, bar a few gaps.
        group = seed.collective and rng.random() < 0.8
        for person, roles in chosen:
            if not roles:
                roles = set(person.position.roles[:1])
            elif rng.random() < 0.1 and len(person.position.roles) > 1:
                roles |= set(person.position.roles)
            if group and person.leadership:
                roles.add(DM)
            chance = worked
            if TECH in roles and technical_accepted and not self.price_driven[seed.code]:
                chance = 0.9  # they signed off our proposal: we work well together
            if (roles & {DM, TECH} or person.leadership) and rng.random() < chance:
                key = (person.key, deal.owner)
                self.familiarity[key] = max(self.familiarity.get(key, 0), rng.choice((2, 2, 3)))
            attitude = self._attitude(roles, person is insider, technical_accepted, deal.outcome)
            entry = BuyingCenterEntry(
                opportunity=planned.model,
                contact=person.model,
                decision_maker=DM in roles,
                technical=TECH in roles,
                purchaser=BUYER in roles,
                user=USER in roles,
                influence=self._influence(person),
                attitude=attitude.value,
                strength=int(self._best(person)),
                insider=person is insider,
            )
            self.out.buying_center.append(entry)
            planned.people.append(person)
        planned.insider = insider

    def _influence(self, person: _Person) -> int:
        level = person.position.level
        roll = self.rng.random()
        if level == 1 and roll < 0.15:
            return Influence.HIGH  # the technician who writes the specification
        if level == 3 and roll < 0.15:
            return Influence.MEDIUM  # the general manager who follows his engineers
        return {1: Influence.LOW, 2: Influence.MEDIUM, 3: Influence.HIGH}[level]

    def _attitude(self, roles, insider, technical_accepted, outcome) -> Attitude:
        if insider:
            return Attitude.SUPPORTER
        roll = self.rng.random()
        if TECH in roles and not technical_accepted:
            opposed = 0.45 if outcome is Outcome.LOST else 0.2
            if roll < opposed:
                return Attitude.OPPONENT
            return Attitude.SUPPORTER if roll > 0.7 else Attitude.NEUTRAL
        if TECH in roles:
            return Attitude.SUPPORTER if roll < 0.6 else Attitude.NEUTRAL
        if roll < 0.1:
            return Attitude.OPPONENT
        return Attitude.SUPPORTER if roll < 0.45 else Attitude.NEUTRAL

    def _write_process(self, planned: _Deal, project: str, seed: AccountSeed) -> None:
        """Evidence, overrides and insider claims as records, from the method's deal."""
        deal, opportunity = planned.deal, planned.model
        user = opportunity.owner
        technical = next(
            (e.contact.name for e in self._entries if e.opportunity is opportunity and e.technical),
            "总工",
        )
        values = {
            "project": project,
            "amount": int(deal.amount / 10_000),
            "month": (deal.expected_close or self.today).month,
            "insider": planned.insider.model.name if planned.insider else "",
            "strength": self.rng.choice(STRENGTHS[planned.product]),
            "technical": technical,
            "percent": self.rng.choice((30, 60, 90, 95)),
        }
        for e in deal.evidence:
            note = EVIDENCE_NOTES.get(e.node, "")
            self.out.evidence.append(
                KeyNodeEvidence(
                    opportunity=opportunity, node=e.node, by=user, on=e.on,
                    note=note.format(**values),
                )
            )  # fmt: skip
        for o in deal.overrides:
            self.out.overrides.append(
                StageOverride(
                    opportunity=opportunity,
                    from_stage=int(o.from_stage),
                    to_stage=int(o.to_stage),
                    missing=list(o.missing),
                    reason=o.reason,
                    by=user,
                    on=o.on,
                )
            )
        if planned.insider is None:
            return
        found = next(e.on for e in deal.evidence if e.node == "insider_found")
        for fact in self.rng.sample(list(types.InsiderFact), self.rng.randint(1, 4)):
            roll = self.rng.random()
            if deal.is_open:
                confirmed = None if roll < 0.5 else roll < 0.9
            else:
                confirmed = None if roll < 0.1 else roll < 0.8
            self.out.insider_claims.append(
                InsiderClaim(
                    opportunity=opportunity,
                    contact=planned.insider.model,
                    fact=fact.value,
                    supplied_on=self._day(found, planned.end),
                    confirmed=confirmed,
                    note=CLAIM_NOTES[fact],
                )
            )

    # -- relationships -------------------------------------------------------

    def _relationships(self) -> None:
        """Each account's grade, relationship type, level and lifecycle, by the method."""
        s = self.settings.relationship
        for seed in ACCOUNTS:
            account = self.accounts[seed.code]
            deals = self.deals_of[seed.code]
            method_deals = [d.deal for d in deals]
            won = relationship.won_in_lookback(method_deals, today=self.today, settings=s)
            axes = relationship.assess_axes(
                self._account_people(seed, deals),
                won_revenue=won.revenue,
                orders_won=won.orders,
                settings=s,
            )
            level = {
                types.RelationshipType.PARTNER: (2, 3, 3),
                types.RelationshipType.SUPPLIER: (1, 1, 2),
                types.RelationshipType.FRIEND: (1, 2),
                types.RelationshipType.OUTSIDER: (1,),
            }[axes.type]
            account.relationship_type = axes.type.value
            account.relationship_level = self.rng.choice(level)
            won_days = sorted(d.closed_on for d in method_deals if d.outcome is Outcome.WON)
            account.lifecycle = relationship.lifecycle(
                len(won_days),
                level=types.RelationshipLevel(account.relationship_level),
                years_as_customer=(self.today - won_days[0]).days / 365.25 if won_days else 0.0,
                settings=s,
            ).value
            self.first_order[seed.code] = won_days[0] if won_days else None
            if won_days and account.funding_notes:
                account.credit_notes = self.rng.choice(CREDIT_NOTES)
            grades = sorted(d.model.grade for d in deals if d.deal.is_open and d.model.grade)
            closed = sorted((d.deal.closed_on, d.model.grade) for d in deals if not d.deal.is_open)
            if grades:
                account.grade = grades[0]
            elif closed and closed[-1][1]:
                account.grade = closed[-1][1]

    def _account_people(self, seed: AccountSeed, deals: list[_Deal]) -> list[types.Person]:
        entries: dict[int, list[BuyingCenterEntry]] = {}
        models_of = {id(d.model) for d in deals}
        for e in self._entries:
            if id(e.opportunity) in models_of:
                entries.setdefault(id(e.contact), []).append(e)
        people = []
        for p in self.people[seed.code]:
            mine = entries.get(id(p.model), [])
            default = {1: Influence.LOW, 2: Influence.MEDIUM, 3: Influence.HIGH}
            people.append(
                types.Person(
                    id=p.key,
                    name=p.model.name,
                    title=p.model.title,
                    roles=frozenset(r for e in mine for r in e.roles),
                    influence=Influence(
                        max((e.influence for e in mine), default=default[p.position.level])
                    ),
                    strength=self._best(p),
                    leadership_member=p.leadership,
                )
            )
        return people

    def _trust_actions(self) -> None:
        for seed in ACCOUNTS:
            if self.rng.random() < 0.25:
                continue
            account = self.accounts[seed.code]
            done = self.rng.sample(TRUST_ACTIONS, self.rng.randint(1, 6))
            for action in done:
                self.out.trust_actions.append(
                    TrustActionDone(
                        account=account,
                        action=action.id,
                        on=self._ago(3, 700),
                        evidence=TRUST_EVIDENCE.get(action.id, ""),
                        by=account.owner,
                    )
                )

    # -- leads ---------------------------------------------------------------

    def _leads(self) -> None:
        """60 leads, screened by the method; 18 of them became the deals they name."""
        converted = self.rng.sample([d for d in self.deals if d.model.source], 18)
        for planned in converted:
            opportunity = planned.model
            screened = planned.start - dt.timedelta(days=self.rng.randint(3, 20))
            lead = self._lead(
                name=opportunity.name,
                company=opportunity.account.name,
                team=opportunity.team,
                owner=opportunity.owner,
                source=opportunity.source,
                amount=opportunity.amount,
                screened=screened,
                pursue=True,
            )
            lead.account = opportunity.account
            lead.opportunity = opportunity
        for _n in range(N_LEADS - len(converted)):
            if self.rng.random() < 0.4:
                seed = self.rng.choice(ACCOUNTS)
                company, industry, province = seed.name, seed.industry, seed.province
                account = self.accounts[seed.code]
                source = self.rng.choice(("existing_customer", "referral", "sales_peer"))
            else:
                company, industry, province = self.rng.choice(PROSPECTS)
                account = None
                source = self.rng.choice(
                    ("industry_media", "search_engine", "sales_peer", "trade_show", "referral")
                )
            team = self.teams[TEAM_OF_PROVINCE[province]]
            product = COATING if industry != CONSTRUCTION else CONCRETE
            if industry in (WATER, POWER) and self.rng.random() < 0.3:
                product = CONCRETE
            templates = PROJECTS[(industry, product)]
            project = self.rng.choice(templates).format(
                n=self.rng.randint(1, 12),
                m=self.rng.randint(1, 6),
                dn=1400,
                place=self.rng.choice(PLACES),
            )
            lead = self._lead(
                name=f"{company.split('有限')[0]}{project}",
                company=company,
                team=team,
                owner=self.rng.choice(self.reps_of[team.name]),
                source=source,
                amount=self._money(30_000, 5_000_000),
                screened=self._ago(1, 300),
                pursue=False,
                unscreened=self.rng.random() < 0.12,
            )
            lead.account = account

    def _lead(
        self, *, name, company, team, owner, source, amount, screened, pursue, unscreened=False
    ):
        s = self.settings.screening
        rng = self.rng
        source_text = {
            "industry_media": "行业媒体报道",
            "search_engine": "客户在网上搜索后来电",
            "sales_peer": "做阀门的销售同行告知",
            "trade_show": "在行业展会上交换名片",
            "existing_customer": "老客户提出新需求",
            "referral": "熟人介绍",
        }.get(source, "其他渠道")
        lead = Lead(
            name=name,
            company=company,
            source=source,
            known=f"{source_text}:{company}计划实施该项目,预计金额约{int(amount / 10_000)}万元。",
            amount=amount,
            currency=self.currency,
            owner=owner,
            team=team,
        )
        self._stamp(lead, screened)
        self.out.leads.append(lead)
        if unscreened:
            return lead
        # Draw what the rep would estimate; a converted lead is one screening said to pursue.
        for _attempt in range(200):
            if pursue:
                scores = {f.key: rng.randint(3, 5) for f in s.factors}
                close = screened + dt.timedelta(days=rng.randint(40, 170))
                likelihood = rng.choice((0.4, 0.5, 0.6, 0.7, 0.8))
            else:
                scores = {f.key: rng.choice((1, 2, 3, 3, 4, 4, 5)) for f in s.factors}
                close = screened + dt.timedelta(days=rng.randint(20, 420))
                likelihood = rng.choice((0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7))
            card = screening.score_risk(scores, settings=s)
            grade = screening.grade(close, today=screened, win_likelihood=likelihood, settings=s)
            decision = screening.decide(card, grade, amount=amount, settings=s)
            if not pursue or decision.decision is types.Decision.PURSUE:
                break
        lead.scores = scores
        lead.score = card.score
        lead.expected_close = close
        lead.win_likelihood = likelihood
        lead.grade = grade.value
        lead.decision = decision.decision.value
        lead.screening_reasons = [{"zh": r.zh, "en": r.en} for r in decision.reasons]
        if rng.random() < 0.5:
            lead.decision_reason = rng.choice(LEAD_COMMENTS[lead.decision])
        return lead

    # -- small orders, activities, targets -------------------------------------

    def _off_funnel_orders(self) -> None:
        """Small repeat orders below the funnel threshold, from accounts already buying."""
        threshold = self.settings.funnel.off_funnel_threshold
        if threshold <= 2_000:
            return
        customers = [s for s in ACCOUNTS if self.first_order[s.code] is not None]
        year_ago = self.today - dt.timedelta(days=364)
        for _n in range(N_OFF_FUNNEL):
            seed = self.rng.choice(customers)
            account = self.accounts[seed.code]
            product = (
                seed.products if seed.products != BOTH else self.rng.choice((COATING, CONCRETE))
            )
            note = self.rng.choice(OFF_FUNNEL_NOTES[product]).format(n=self.rng.randint(20, 400))
            order = OffFunnelOrder(
                account=account,
                amount=self._money(2_000, float(min(threshold - 1, Decimal(49_000)))),
                currency=self.currency,
                on=self._day(max(self.first_order[seed.code], year_ago), self.today),
                note=note,
                owner=account.owner,
                team=account.team,
            )
            self.out.off_funnel_orders.append(order)

    def _activities(self) -> None:
        """1,500 activities over the last twelve months, mostly where deals are open."""
        rng = self.rng
        year_ago = self.today - dt.timedelta(days=364)
        weights = []
        for seed in ACCOUNTS:
            deals = self.deals_of[seed.code]
            open_ = sum(d.deal.is_open for d in deals)
            weights.append(1 + 2 * open_ + (self.first_order[seed.code] is not None))
        for _n in range(N_ACTIVITIES):
            seed = rng.choices(ACCOUNTS, weights)[0]
            account = self.accounts[seed.code]
            kind = rng.choices(ACTIVITY_KINDS, ACTIVITY_WEIGHTS)[0]
            on = self._day(year_ago, self.today)
            team = TEAM_OF_PROVINCE[seed.province]
            owner = account.owner
            roll = rng.random()
            if roll < 0.1 and self.manager_of[team] is not owner:
                owner = self.manager_of[team]
            elif roll < 0.15:
                owner = rng.choice(self.reps_of[team])
            live = [d for d in self.deals_of[seed.code] if d.start <= on <= d.end]
            deal = rng.choice(live) if live and rng.random() < 0.75 else None
            pool = deal.people if deal and deal.people else self.people[seed.code]
            met = rng.sample(
                pool, min(len(pool), 1 if kind in (K.CALL, K.EMAIL) else rng.randint(1, 3))
            )
            who = "、".join(f"{p.model.name}({p.model.title})" for p in met)
            notes = ACTIVITY_NOTES[kind]
            if deal is None:
                notes = tuple(n for n in notes if "{project}" not in n)
            project = deal.model.name.removeprefix(seed.short) if deal else ""
            activity = Activity(
                kind=kind.value,
                on=on,
                account=account,
                opportunity=deal.model if deal else None,
                notes=rng.choice(notes).format(who=who, project=project),
                cost=self._cost(kind),
                owner=owner,
                team=account.team,
            )
            if rng.random() < 0.5 and kind not in (K.GIFT,):
                activity.next_step = rng.choice(NEXT_STEPS)
            if kind in types.VISIT_KINDS and rng.random() < 0.72:
                # "Relationships are walked out": most visits leave a reason to come back.
                activity.next_pretext = rng.choice(PRETEXTS)
                activity.next_on = on + dt.timedelta(days=rng.randint(7, 40))
            self.out.activities.append(activity)
            through = Activity.contacts.through
            self.out.activity_contacts += [through(activity=activity, contact=p.model) for p in met]
            ours = [owner]
            manager = self.manager_of[team]
            social = kind in (K.VISIT, K.MEETING, K.ENTERTAINMENT, K.SITE_VISIT)
            if social and rng.random() < 0.15 and manager is not owner:
                ours.append(manager)
            people = Activity.participants.through
            self.out.activity_participants += [people(activity=activity, user=u) for u in ours]

    def _cost(self, kind: K) -> Decimal:
        low, high = {
            K.VISIT: (0, 600),
            K.CALL: (0, 0),
            K.EMAIL: (0, 0),
            K.MEETING: (0, 2_000),
            K.SITE_VISIT: (2_000, 30_000),
            K.ENTERTAINMENT: (500, 8_000),
            K.GIFT: (200, 3_000),
        }[kind]
        if high == 0 or (kind is K.VISIT and self.rng.random() < 0.5):
            return Decimal(0)
        return Decimal(round(self.rng.randint(low, high), -1))

    def _targets(self) -> None:
        """Quarterly targets of the fiscal year containing today, per rep and per team."""
        year = self.today.year if self.today.month >= self.fy_month else self.today.year - 1
        start = dt.date(year, self.fy_month, 1)
        quarters = []
        for q in range(4):
            first = screening.months_later(start, 3 * q)
            quarters.append((first, screening.months_later(first, 3) - dt.timedelta(days=1)))
        shares = (Decimal("0.20"), Decimal("0.25"), Decimal("0.25"), Decimal("0.30"))
        per_team: dict[str, list[Decimal]] = {t: [Decimal(0)] * 4 for t in TEAMS}
        for u in USERS:
            if u.role != "rep":
                continue
            annual = Decimal(self.rng.randrange(8_000_000, 15_000_001, 500_000))
            for i, (first, last) in enumerate(quarters):
                amount = (annual * shares[i]).quantize(Decimal(1))
                per_team[u.teams[0]][i] += amount
                self.out.targets.append(
                    Target(user=self.users[u.username], start=first, end=last, amount=amount)
                )
        for team in TEAMS:
            for i, (first, last) in enumerate(quarters):
                # The team carries more than its reps: the manager's own accounts count too.
                amount = (per_team[team][i] * Decimal("1.2") / 10_000).quantize(1) * 10_000
                self.out.targets.append(
                    Target(team=self.teams[team], start=first, end=last, amount=amount)
                )

    def _familiarities(self) -> None:
        by_key = {p.key: p.model for people in self.people.values() for p in people}
        for (key, username), strength in self.familiarity.items():
            self.out.familiarities.append(
                Familiarity(contact=by_key[key], user=self.users[username], strength=strength)
            )


# ---------------------------------------------------------------------------
# The action
# ---------------------------------------------------------------------------


def database_is_empty() -> bool:
    """Whether the database holds no account at all (the recycle bin counts)."""
    return not Account.all_objects.exists()


@transaction.atomic
def load_demo(*, today: dt.date | None = None, acting_user=None) -> DemoSet:
    """Write the demo set for ``today`` (default: the local date) into an empty database.

    One transaction; one history row with source ``demo`` per team, user,
    account, contact, lead, opportunity, off-funnel order, activity and target.
    Every user gets ``DEMO_PASSWORD``: callers decide whether that is acceptable
    (the ``demo`` command allows it only in demo mode). Raises ``ValidationError``
    when the database already holds accounts, or users or teams of the demo's names.
    """
    today = today or timezone.localdate()
    if not database_is_empty():
        raise ValidationError(
            _("The database already holds accounts: demo data loads only into an empty database.")
        )
    taken = sorted(
        get_user_model()
        .objects.filter(username__in=[u.username for u in USERS])
        .values_list("username", flat=True)
    )
    if taken:
        raise ValidationError(
            _("Users named %(names)s already exist: remove them before loading the demo."),
            params={"names": ", ".join(taken)},
        )
    teams = sorted(Team.objects.filter(name__in=TEAMS).values_list("name", flat=True))
    if teams:
        raise ValidationError(
            _("Teams named %(names)s already exist: remove them before loading the demo."),
            params={"names": ", ".join(teams)},
        )
    company = CompanySettings.load()
    demo = build_demo(
        today=today,
        settings=company.to_method(),
        fiscal_year_start_month=company.fiscal_year_start_month,
        currency=company.currency,
    )
    password = make_password(DEMO_PASSWORD)  # hashed once: it is the same for everyone
    for user in demo.users:
        user.password = password
    _save(demo)
    _write_history(demo, acting_user)
    # Written in bulk, outside the actions: the stored figures are computed here.
    figures.recompute_all(today=today)
    return demo


def _create(model, objs: list, *, backdate: bool = False) -> None:
    """Bulk-insert ``objs``; with ``backdate``, keep their planned created/updated times,
    which ``auto_now_add`` overwrites on insert."""
    stamps = [(o.created_at, o.updated_at) for o in objs] if backdate else []
    model._base_manager.bulk_create(objs)
    if backdate:
        for obj, (created, updated) in zip(objs, stamps, strict=True):
            obj.created_at, obj.updated_at = created, updated
        model._base_manager.bulk_update(objs, ["created_at", "updated_at"])


def _save(demo: DemoSet) -> None:
    _create(Team, demo.teams)
    _create(get_user_model(), demo.users)
    _create(Membership, demo.memberships)
    _create(Account, demo.accounts, backdate=True)
    # A manager and the people under them are inserted together: link them afterwards.
    lines = [(c, c.reports_to) for c in demo.contacts if c.reports_to is not None]
    for contact, _manager in lines:
        contact.reports_to = None
    _create(Contact, demo.contacts, backdate=True)
    for contact, manager in lines:
        contact.reports_to = manager
    Contact._base_manager.bulk_update([c for c, _ in lines], ["reports_to"])
    _create(Familiarity, demo.familiarities)
    _create(TrustActionDone, demo.trust_actions)
    _create(Opportunity, demo.opportunities, backdate=True)
    _create(KeyNodeEvidence, demo.evidence)
    _create(StageOverride, demo.overrides)
    _create(BuyingCenterEntry, demo.buying_center)
    _create(InsiderClaim, demo.insider_claims)
    _create(Lead, demo.leads, backdate=True)
    _create(OffFunnelOrder, demo.off_funnel_orders)
    _create(Activity, demo.activities)
    _create(Activity.contacts.through, demo.activity_contacts)
    _create(Activity.participants.through, demo.activity_participants)
    _create(Target, demo.targets)


def _write_history(demo: DemoSet, acting_user) -> None:
    user = acting_user if acting_user is not None and acting_user.is_authenticated else None
    rows = []
    for records in (
        demo.teams,
        demo.users,
        demo.accounts,
        demo.contacts,
        demo.leads,
        demo.opportunities,
        demo.off_funnel_orders,
        demo.activities,
        demo.targets,
    ):
        content_type = ContentType.objects.get_for_model(records[0], for_concrete_model=True)
        for obj in records:
            values = snapshot(obj)
            values.pop("password", None)  # never a password hash in history
            rows.append(
                Change(
                    content_type=content_type,
                    object_id=str(obj.pk),
                    object_repr=str(obj)[:200],
                    action=Change.Action.CREATE,
                    changes={
                        k: [None, v] for k, v in values.items() if v not in (None, "", [], {})
                    },
                    # As ``record`` does: the version the record stands at (1, new).
                    version=getattr(obj, "version", None),
                    user=user,
                    source=Change.Source.DEMO,
                )
            )
    Change.objects.bulk_create(rows)
