"""The demo's reference data: the simulation's constants, how often each channel and category
occurs and at what hours, and the words events carry (titles, roads, reporters, departments,
reasons and notes)."""

from __future__ import annotations

from wangge.events.intake import DIRECT_CHANNELS, TRACKED_CHANNELS
from wangge.events.models import Channel, Status

DAYS = 182  # six months before now
SEED = 2026
MINE = "440704003001001"  # demo-grid's grid (英南村第1网格)
CLEARING_M = 80.0

S = Status
DIRECT = DIRECT_CHANNELS  # filed at once, as intake files them
TRACKED = TRACKED_CHANNELS  # given a tracking code
TRACKING_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # as intake: no 0/O, 1/I

CHANNELS = [
    (Channel.PATROL, 60),
    (Channel.HOTLINE, 20),
    (Channel.RESIDENT, 10),
    (Channel.ASSIGNED, 5),
    (Channel.OPEN311, 3),
    (Channel.VIDEO, 2),
]
# Relative frequency of each minor category: 市容环境 and 街面秩序 most, 突发事件 rare, 信访 few.
CATEGORY_WEIGHTS = {
    "0101": 25, "0102": 110, "0103": 90, "0104": 20,
    "0201": 45, "0202": 12,
    "0301": 30, "0302": 18, "0303": 20,
    "0401": 60, "0402": 90, "0403": 55,
    "0501": 4, "0502": 2, "0503": 6, "0504": 2,
    "0601": 30, "0602": 10, "0603": 12,
    "0701": 30, "0702": 15, "0703": 15, "0704": 8,
    "0801": 18, "0802": 10, "0803": 10, "0804": 40,
    "0901": 12,
    "1001": 3, "1002": 10,
}  # fmt: skip
CHANNEL_BIAS: dict[str, dict[str, float]] = {
    Channel.PATROL: {"0901": 0, "0804": 0.2, "0301": 0.5},
    Channel.HOTLINE: {"0804": 6, "0301": 3, "0601": 1.5, "0703": 2, "0901": 2, "0102": 0.5},
    Channel.RESIDENT: {"0301": 2, "0804": 2},
    Channel.OPEN311: {"0301": 2, "0804": 2},
    Channel.ASSIGNED: {"0901": 12, "0101": 3, "0702": 2, "1002": 3},
}
# (hour of day, weight): patrols in office hours, calls and residents from morning to night.
OFFICE_HOURS = (range(8, 18), [3, 10, 10, 8, 2, 4, 9, 9, 7, 2])
CALL_HOURS = (range(7, 23), [2, 6, 9, 10, 9, 5, 6, 8, 9, 8, 7, 6, 6, 5, 3, 2])
VIDEO_CATEGORIES = {"0102", "0103", "0201", "0303", "0401", "0402", "0403", "0503", "0504"}

TITLES = {
    "0101": ["楼顶违规搭建铁皮房", "天台私自加建构筑物", "空地私搭简易棚"],
    "0102": ["垃圾收集点垃圾满溢未清运", "绿化带内暴露垃圾", "路边堆放生活垃圾"],
    "0103": ["路面油污未清理", "人行道泥沙堆积", "路面散落建筑垃圾"],
    "0104": ["河涌水面漂浮垃圾", "排水渠水体发黑发臭"],
    "0201": ["电线杆张贴非法小广告", "楼道墙面喷涂小广告"],
    "0202": ["商铺违规设置户外广告牌", "广告牌破损存在坠落隐患"],
    "0301": ["夜间施工噪音扰民", "工地超时施工噪音大"],
    "0302": ["道路开挖未设围挡", "占道施工未恢复路面"],
    "0303": ["工地出入口扬尘严重", "渣土车未覆盖遗撒"],
    "0401": ["流动摊贩占道叫卖", "路口无照游商聚集"],
    "0402": ["商铺出店经营占用人行道", "夜市摊档占道经营"],
    "0403": ["人行道乱堆建材", "楼道乱堆杂物"],
    "0501": ["供水管道破裂路面冒水", "消防栓漏水"],
    "0502": ["路面塌陷出现坑洞", "人行道地面下沉"],
    "0503": ["暴雨后路段积水", "下穿通道积水"],
    "0504": ["绿化带起火冒烟", "垃圾堆起火"],
    "0601": ["邻里漏水纠纷", "邻里噪音纠纷", "通道占用引发邻里矛盾"],
    "0602": ["工人反映被拖欠工资", "劳务费结算纠纷"],
    "0603": ["家庭矛盾需调解", "赡养纠纷"],
    "0701": ["楼道堆放杂物堵塞消防通道", "电动车楼道充电", "消防通道被占用"],
    "0702": ["餐馆液化气瓶存放不规范", "疑似燃气泄漏异味"],
    "0703": ["无证食品摊点", "餐馆后厨卫生差"],
    "0704": ["老旧房屋墙体开裂", "危房仍有人居住"],
    "0801": ["独居老人生活困难求助", "困难家庭申请帮扶"],
    "0802": ["长者饭堂服务咨询", "居家养老服务申请"],
    "0803": ["社区卫生站服务反映", "疫苗接种咨询"],
    "0804": ["小区路灯不亮", "公交站台设施损坏", "咨询办事流程"],
    "0901": ["群众来信反映征地补偿问题", "信访事项交办", "反映小区物业管理问题"],
    "1001": ["发现发热人员", "重点场所人员发热报告"],
    "1002": ["重点人员排查登记", "返乡人员健康排查"],
}
ROADS = {
    "440704001": ["江海一路", "江海二路", "东海路", "高新路", "金瓯路", "文昌路"],
    "440704002": ["外海大道", "龙溪路", "直冲路", "南山路", "金溪路"],
    "440704003": ["礼乐大道", "英南路", "威东路", "乌纱路", "新民路", "武东路"],
}
PREFIX: dict[str, str] = {
    Channel.PATROL: "网格员巡查发现：",
    Channel.HOTLINE: "市民致电12345反映：",
    Channel.RESIDENT: "居民上报：",
    Channel.OPEN311: "12345政务服务平台转来：",
    Channel.ASSIGNED: "上级交办：",
    Channel.VIDEO: "视频监控智能识别：",
}
REPORTERS: dict[str, str] = {
    Channel.HOTLINE: "12345热线",
    Channel.RESIDENT: "anonymous",
    Channel.OPEN311: "open311:12345政务服务平台",
    Channel.VIDEO: "视频监控（智能识别）",
}
DEPARTMENT_NAMES = {
    "chengguan": "区城管局",
    "yingji": "区应急管理局",
    "shichang": "区市场监督管理局",
    "minzheng": "区民政局",
    "weijian": "区卫生健康局",
    "xinfang": "区信访局",
    "zhengfa": "区委政法委",
    "gongan": "公安江海分局",
    "dangjian": "区委组织部",
}
REJECT_REASONS = [
    ("属于110警情，已告知来电人拨打110", 30),
    ("已在诉讼程序中，按规定不予受理", 15),
    ("重复上报，已有事件在办理", 30),
    ("不属于本区管辖范围", 15),
    ("诉求内容不清，多次联系未果", 10),
]
RETURN_REASONS = ["非本部门职责，请重新派遣", "该点位不属于本部门管养范围", "派遣部门有误"]
PARK_REASONS = [
    "涉及历史遗留问题，需区里统筹研究",
    "需多部门联合处置，待协调",
    "当事人在外地，待其返回后处理",
    "需等待专项资金安排",
]
# By major category (the first two digits); "" for the rest.
EXTEND_REASONS = {
    "03": ["受天气影响无法施工", "需施工单位整改到位后复查"],
    "06": ["涉及多方当事人，调解需更多时间"],
    "07": ["需等待检测结果", "整改工程量大，需更多时间"],
    "": ["需协调产权单位，申请延期", "涉及多个部门，需协调时间"],
}
REWORK_REASONS = ["现场复核仍未处理到位", "问题反弹，需重新处置", "整改不到位"]
HANDLED_NOTES = {
    "03": ["已责令施工单位整改并复查", "已责令停工整改"],
    "06": ["已调解，双方达成一致", "已组织双方调解并签订协议"],
    "07": ["已督促整改，隐患已消除", "已现场检查并责令整改"],
    "08": ["已上门走访并落实", "已办理并答复诉求人"],
    "09": ["已按程序办理并答复信访人"],
    "10": ["已按规定登记并跟进"],
    "": ["已现场处置完毕", "已清理完毕", "已责令当事人整改"],
}


def by_major(table: dict[str, list[str]], code: str) -> list[str]:
    """The entries for a category code's major category (its first two digits), or the
    default ones under ""."""
    return table.get(code[:2]) or table[""]
