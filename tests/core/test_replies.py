"""bot.core.replies on liaison phrasing: a table of written examples (one per line: the text,
then what it must read as) and families generated from parts (every done phrase with every
decoration, every percentage form with every status word, every extension wording with every
date form…). Today is Saturday 2025-12-20 unless a test says otherwise.

Expected readings are written as `ref:status percent @date` joined by `|` for the candidates of
an ambiguous reading (then ` ?`), `; ` between refs, `*` for the replied-to item, `—` for no
reading (the text stays a note)."""

from __future__ import annotations

from datetime import date

import pytest

from bot.core.replies import Reading, cn_int, named_refs, read_reply

TODAY = date(2025, 12, 20)  # a Saturday
CODES = {"SR", "LN", "GZ"}


def show(readings: list[Reading]) -> str:
    if not readings:
        return "—"
    parts = []
    for r in readings:
        cands = "|".join(
            f"{c.status}"
            + ("" if c.percent is None else f" {c.percent}")
            + ("" if c.date is None else f" @{c.date.isoformat()}")
            for c in r.candidates
        )
        parts.append(f"{r.ref or '*'}:{cands}{' ?' if r.ambiguous else ''}")
    return "; ".join(parts)


def read(text: str, today: date = TODAY) -> str:
    return show(read_reply(text, today=today, plan_codes=CODES))


# text ⟶ expected; written as liaisons write
TABLE = """
已完成 ⟶ *:done
已经完成了 ⟶ *:done
该项工作已全部完成，相关材料已报送。 ⟶ *:done
已办结 ⟶ *:done
办结了 ⟶ *:done
全部完成 ⟶ *:done
已经办完了 ⟶ *:done
这项已经搞定了 ⟶ *:done
项目已竣工验收并投入使用 ⟶ *:done
您好，我单位已按要求完成公共卫生科设置，相关文件已上传。 ⟶ *:done|doing ?
项目已完成招标，施工单位已进场 ⟶ *:done|doing ?
目前已完成选址和可研，正在开展初步设计，预计明年6月开工 ⟶ *:doing @2026-06-30|done @2026-06-30 ?
已完成全部任务 ⟶ *:done
已完成年度目标 ⟶ *:done
已完成的 ⟶ *:done
全年目标已完成 ⟶ *:done
已达到目标值 ⟶ *:done
由于上级资金尚未下达，项目暂时无法启动 ⟶ *:blocked
目前存在用地指标不足的问题，请求市里协调解决 ⟶ *:blocked
已经报市政府审定，等待批复 ⟶ —
收到，我们抓紧办理 ⟶ *:ack
收到，尚未启动 ⟶ *:ack
SR-2 已开工建设，完成投资2000万元 ⟶ SR-2:doing|done ?
SR-2 完成投资2000万元，占年度计划的40% ⟶ SR-2:doing 40
已完成40%的工程量 ⟶ *:doing 40
已完成，请审核 ⟶ *:done
按期完成 ⟶ *:done
圆满完成任务 ⟶ *:done
已完成✅ ⟶ *:done
ok，已完成 ⟶ *:done
done ⟶ *:done
Completed ⟶ *:done
百分之百完成 ⟶ *:done
100% ⟶ *:done
进度100% ⟶ *:done
已完成100% ⟶ *:done
完成120% ⟶ *:done
超额完成，完成率120% ⟶ *:done
目前进展顺利，完成约60% ⟶ *:doing 60
目前完成了百分之六十左右 ⟶ *:doing 60
工程形象进度约七成 ⟶ *:doing 70
七成多了 ⟶ *:doing 70
九成以上 ⟶ *:doing 90
进度：75 ⟶ *:doing 75
进度为30 ⟶ *:doing 30
完成率达到85% ⟶ *:doing 85
完成度90 ⟶ *:doing 90
已完成总工程量的三分之二 ⟶ *:doing 67
完成了三分之一 ⟶ *:doing 33
已完成四分之三 ⟶ *:doing 75
已完成一半 ⟶ *:doing 50
已完成80% ⟶ *:doing 80
已完成８０％ ⟶ *:doing 80
已完成 80 % ⟶ *:doing 80
已完成80.4% ⟶ *:doing 80
进度80.5% ⟶ *:doing 81
已完成百分之八十五 ⟶ *:doing 85
已完成八成 ⟶ *:doing 80
8成 ⟶ *:doing 80
0% ⟶ *:doing 0
进度0 ⟶ *:doing 0
进行中 ⟶ *:doing
推进中 ⟶ *:doing
正在抓紧推进中 ⟶ *:doing
正在办理相关手续 ⟶ *:doing
已启动前期工作 ⟶ *:doing
方案已制定，正在组织实施 ⟶ *:doing
还没完成，正在加紧推进 ⟶ *:doing
目前还在推进，预计明年3月底完成 ⟶ *:doing @2026-03-31
过半 ⟶ *:doing
完成过半 ⟶ *:doing
已过半 ⟶ *:doing
大部分已完成 ⟶ *:doing
已完成大部分工作 ⟶ *:doing
部分项目已完成 ⟶ *:doing
接近完成 ⟶ *:doing
快完成了 ⟶ *:doing
即将完成 ⟶ *:doing
ongoing ⟶ *:doing
in progress ⟶ *:doing
进行中 50%今天开会 ⟶ *:doing 50 @2025-12-20
已完成80%，月底前报送 ⟶ *:doing 80 @2025-12-31
有困难 ⟶ *:blocked
卡住了 ⟶ *:blocked
资金未到位 ⟶ *:blocked
资金还没到位，项目卡住了 ⟶ *:blocked
用地指标未落实，推进困难 ⟶ *:blocked
有困难，需要市里协调 ⟶ *:blocked
正在推进，但资金不到位 ⟶ *:blocked
人手不足，进展缓慢 ⟶ *:blocked
项目已暂停 ⟶ *:blocked
stuck ⟶ *:blocked
无法完成 ⟶ *:blocked
无法按期完成，申请延期至2026年3月31日 ⟶ *:extend @2026-03-31
因资金未到位，申请延期到明年6月底 ⟶ *:extend @2026-06-30
由于疫情影响，需延期至6月30日 ⟶ *:extend @2026-06-30
推迟到下个月底 ⟶ *:extend @2026-01-31 ?
申请推迟到下个月底 ⟶ *:extend @2026-01-31
会议推迟到下周 ⟶ *:extend @2025-12-26 ?
申请延期至下月 ⟶ *:extend @2026-01-31
克服困难，全力推进 ⟶ *:doing
困难已解决，正在推进 ⟶ *:doing
完成情况如下：已全部完成 ⟶ *:done
SR-3完成情况：已完成方案编制，正在推进施工 ⟶ SR-3:doing|done ?
全市基层医疗机构覆盖率达到95% ⟶ —
同比增长20%，进行中 ⟶ *:doing
进度达到95% ⟶ *:doing 95
年底前可完成 ⟶ *:doing @2025-12-31|ack @2025-12-31 ?
按要求完成材料报送 ⟶ *:done|doing ?
申请延期至6/30前 ⟶ *:extend @2026-06-30
申请延期至2026.6.30 ⟶ *:extend @2026-06-30
申请延期到2026/06/30 ⟶ *:extend @2026-06-30
延期到20260630 ⟶ *:extend @2026-06-30
申请延期到六月底 ⟶ *:extend @2026-06-30
申请延期至十二月三十一日 ⟶ *:extend @2025-12-31
申请推迟到明年一季度 ⟶ *:extend @2026-03-31
延期到明年四季度 ⟶ *:extend @2026-12-31
延期至2026年第三季度 ⟶ *:extend @2026-09-30
延期到第二季度末 ⟶ *:extend @2026-06-30
延期至上半年 ⟶ *:extend @2026-06-30
延至2026年底 ⟶ *:extend @2026-12-31
延期至年底 ⟶ *:extend @2025-12-31
延期至明年底 ⟶ *:extend @2026-12-31
延期到3月上旬 ⟶ *:extend @2026-03-10
延期到3月中旬 ⟶ *:extend @2026-03-20
延期到3月下旬 ⟶ *:extend @2026-03-31
申请顺延至下月中旬 ⟶ *:extend @2026-01-20
顺延至下月中旬 ⟶ *:extend @2026-01-20 ?
已完成80%，申请延期至1月15日 ⟶ *:extend @2026-01-15
申请延期 ⟶ *:extend
延期两个月 ⟶ *:extend
延期到2月30日 ⟶ *:extend
延期至13月1日 ⟶ *:extend
能否延期到明年3月底？ ⟶ *:extend @2026-03-31 ?
可以延期吗 ⟶ *:extend ?
不需要延期，按期推进 ⟶ —
无需延期 ⟶ —
收到 ⟶ *:ack
已收到 ⟶ *:ack
好的 ⟶ *:ack
好的，收到 ⟶ *:ack
收到，马上落实 ⟶ *:ack
已收到，我们会按时完成 ⟶ *:ack
收悉 ⟶ *:ack
没问题 ⟶ *:ack
👍 ⟶ *:ack
👌 ⟶ *:ack
收到👍 ⟶ *:ack
OK ⟶ *:ack
好的，已签收 ⟶ *:ack
收到，正在推进 ⟶ *:doing
好的，已完成 ⟶ *:done
✅ ⟶ *:done|ack ?
基本完成 ⟶ *:done|doing ?
基本完成，待验收 ⟶ *:done|doing ?
初步完成 ⟶ *:done|doing ?
已完成3家，还剩2家 ⟶ *:doing|done ?
已完成80家医疗机构的改造 ⟶ *:doing|done ?
完成了80 ⟶ *:doing|done ?
一期已完成，二期正在推进 ⟶ *:doing|done ?
计划完成80%，实际完成60% ⟶ *:doing 80|doing 60 ?
完成60%，资金未到位 ⟶ *:blocked|doing 60 ?
已完成，但尾款资金未到位 ⟶ *:blocked|done ?
还没完成 ⟶ *:doing|blocked ?
尚未完成 ⟶ *:doing|blocked ?
未完成 ⟶ *:doing|blocked ?
目前尚未全部完成 ⟶ *:doing|blocked ?
待完成 ⟶ *:doing|blocked ?
争取本周内完成 ⟶ *:doing @2025-12-26|ack @2025-12-26 ?
力争年底前全部完成 ⟶ *:doing @2025-12-31|ack @2025-12-31 ?
将于2026年6月30日前完成 ⟶ *:doing @2026-06-30|ack @2026-06-30 ?
明天完成 ⟶ *:doing @2025-12-21|ack @2025-12-21 ?
这周五前完成 ⟶ *:doing @2025-12-26|ack @2025-12-26 ?
3个工作日内完成 ⟶ *:doing @2025-12-24|ack @2025-12-24 ?
本月25日前完成 ⟶ *:doing @2025-12-25|ack @2025-12-25 ?
6.30前完成 ⟶ *:doing @2026-06-30|ack @2026-06-30 ?
进行中 -5% ⟶ *:doing ?
进度-10% ⟶ —
-5% ⟶ —
120% ⟶ —
搞定啦～ ⟶ *:done
已完成哈 ⟶ *:done
完成啦🎉 ⟶ *:done
弄好了 ⟶ *:done
已完成！！！ ⟶ *:done
已完成。。。 ⟶ *:done
还在弄 ⟶ *:doing
正在弄 ⟶ *:doing
还差一点 ⟶ *:doing
快好了 ⟶ *:doing
差不多了 ⟶ *:done|doing ?
已阅 ⟶ *:ack
嗯嗯 ⟶ *:ack
收到收到 ⟶ *:ack
好嘞👌 ⟶ *:ack
OK的 ⟶ *:ack
嗯，还没完成 ⟶ *:doing|blocked ?
已完成80％，还差验收 ⟶ *:doing 80
完成８成 ⟶ *:doing 80
完成80%左右 ⟶ *:doing 80
大概完成了60% ⟶ *:doing 60
SR-3 ✅ ⟶ SR-3:done|ack ?
SR-3 👍 ⟶ SR-3:ack
SR-3✅ SR-5✅ ⟶ SR-3:done|ack ?; SR-5:done|ack ?
报告：SR-3已完成，SR-5正在推进约50%，SR-7资金问题暂缓 ⟶ SR-3:done; SR-5:doing 50; SR-7:blocked
完成了吗？ ⟶ —
完成了吗 ⟶ —
是否已经完成？ ⟶ —
办结了没有？ ⟶ —
这个事项什么时候截止？ ⟶ —
请问需要报送什么材料？ ⟶ —
谢谢 ⟶ —
月底 ⟶ —
下周开会研究 ⟶ —
下周三报送 ⟶ —
已协调土地指标 ⟶ —
没有困难 ⟶ —
材料已上传，请查收 ⟶ —
SR-17 进行中 50% ⟶ SR-17:doing 50
SR-3 已完成；SR-5 进行中60% ⟶ SR-3:done; SR-5:doing 60
SR-3、SR-5 均已完成 ⟶ SR-3:done; SR-5:done
SR-3和SR-5都已办结 ⟶ SR-3:done; SR-5:done
已完成：SR-3、SR-5 ⟶ SR-3:done; SR-5:done
sr3已完成，sr5有困难 ⟶ SR-3:done; SR-5:blocked
SR-3 已完成。SR-5 申请延期至2026年6月30日 ⟶ SR-3:done; SR-5:extend @2026-06-30
ＳＲ－３ 已完成 ⟶ SR-3:done
ｓｒ３ 进行中 ⟶ SR-3:doing
SR—3 已完成 ⟶ SR-3:done
SR 3 已完成 ⟶ SR-3:done
SR-3和SR-5都在推进中，SR-7资金未到位 ⟶ SR-3:doing; SR-5:doing; SR-7:blocked
关于SR-3：目前已完成70%，预计下周五前全部完成 ⟶ SR-3:doing 70 @2025-12-26
LN-1 已完成 GZ-2 进行中 30% ⟶ LN-1:done; GZ-2:doing 30
SR-1.2 已完成 ⟶ SR-1.2:done
SR-P3 已完成 ⟶ SR-P3:done
SR-3 done ⟶ SR-3:done
SR-3 50% ⟶ SR-3:doing 50
1. SR-3 已完成 2. SR-5 进行中 ⟶ SR-3:done; SR-5:doing
SR-3 材料已上传 ⟶ —
SR-3 完成了吗？ ⟶ —
SR-3 已完成，SR-3 的佐证材料稍后补充 ⟶ SR-3:done
XX-3 已完成 ⟶ XX-3:done
covid-19 影响，进行中 ⟶ *:doing
SR-3 已完成；XR-5 进行中 ⟶ SR-3:done; XR-5:doing
"""

ROWS = [tuple(part.strip() for part in line.split("⟶")) for line in TABLE.strip().splitlines()]


@pytest.mark.parametrize(("text", "expected"), ROWS, ids=[r[0] for r in ROWS])
def test_written_examples(text, expected):
    assert read(text) == expected


def test_lines_of_one_message_are_parts_too():
    text = "SR-3：已完成\nSR-5：进行中，60%\nSR-7：有困难，资金未到位"
    assert read(text) == "SR-3:done; SR-5:doing 60; SR-7:blocked"


# --- families ----------------------------------------------------------------------------------

DONE_PHRASES = [
    "已完成",
    "已经完成",
    "完成了",
    "全部完成",
    "已全部完成",
    "已办结",
    "办结了",
    "已办完",
    "已做完",
    "已落实",
    "已建成",
    "已竣工",
    "已完工",
    "如期完成",
    "提前完成",
    "顺利完成",
    "圆满完成",
    "已验收",
    "通过验收",
    "已实现",
]
DOING_PHRASES = [
    "进行中",
    "推进中",
    "正在推进",
    "正在进行",
    "正在办理",
    "正在实施",
    "正在建设",
    "在办",
    "办理中",
    "实施中",
    "建设中",
    "有序推进",
    "稳步推进",
    "加快推进",
    "已启动",
    "已开工",
]
BLOCKED_PHRASES = [
    "有困难",
    "遇到困难",
    "卡住了",
    "受阻",
    "资金未到位",
    "资金不到位",
    "资金缺口较大",
    "经费不足",
    "人手不足",
    "无法推进",
    "推进困难",
    "需要协调",
    "停工了",
    "搁置",
]
ACK_PHRASES = [
    "收到",
    "已收到",
    "收到了",
    "好的",
    "知道了",
    "已知悉",
    "明白",
    "收悉",
    "已签收",
    "签收",
    "遵照执行",
    "👍",
    "👌",
    "ok",
    "Ok",
    "OK",
]
# (how the liaison decorates it, around the phrase)
DECORATIONS = [
    ("", ""),
    ("", "。"),
    ("", "！"),
    ("", "!!"),
    ("报告：", ""),
    ("您好，", "。"),
    ("", " 👍"),
    ("", "，材料已报送"),
    ("", "，请审核"),
    ("  ", "  "),
    ("领导好，该项", "。"),
]


@pytest.mark.parametrize("phrase", DONE_PHRASES)
@pytest.mark.parametrize(("before", "after"), DECORATIONS)
def test_done_family(phrase, before, after):
    assert read(f"{before}{phrase}{after}") == "*:done"


@pytest.mark.parametrize("phrase", DOING_PHRASES)
@pytest.mark.parametrize(("before", "after"), DECORATIONS[:6])
def test_doing_family(phrase, before, after):
    assert read(f"{before}{phrase}{after}") == "*:doing"


@pytest.mark.parametrize("phrase", BLOCKED_PHRASES)
@pytest.mark.parametrize(("before", "after"), DECORATIONS[:6])
def test_blocked_family(phrase, before, after):
    assert read(f"{before}{phrase}{after}") == "*:blocked"


@pytest.mark.parametrize("phrase", ACK_PHRASES)
@pytest.mark.parametrize(("before", "after"), [("", ""), ("", "。"), ("", "！"), ("好的，", "")])
def test_ack_family(phrase, before, after):
    assert read(f"{before}{phrase}{after}") == "*:ack"


PERCENT_FORMS = [
    ("80%", 80),
    ("８０％", 80),
    ("80 %", 80),
    ("80％", 80),
    ("百分之八十", 80),
    ("八成", 80),
    ("8成", 80),
    ("百分之八十五", 85),
    ("85%", 85),
    ("35%", 35),
    ("百分之三十五", 35),
    ("三成", 30),
    ("一半", 50),
    ("三分之二", 67),
    ("5%", 5),
    ("99%", 99),
    ("99.6%", 100),
]


@pytest.mark.parametrize(("form", "value"), PERCENT_FORMS)
@pytest.mark.parametrize("status", ["进行中", "推进中", "已完成", "目前完成", "完成了", "进度"])
def test_percentage_family(form, value, status):
    expected = "*:done" if value == 100 else f"*:doing {value}"
    assert read(f"{status}{form}") == expected
    assert read(f"{status} {form}，继续推进") == expected


@pytest.mark.parametrize("form", ["-5%", "-80%", "负百分之十", "101%", "150%", "百分之一百二十"])
@pytest.mark.parametrize("status", ["进行中", "推进中"])
def test_not_a_percentage_makes_it_a_question(form, status):
    assert read(f"{status}{form}") == "*:doing ?"
    assert read(form) == "—"


# (date phrase, the date it means on Saturday 2025-12-20)
DATE_FORMS = [
    ("2026年6月30日", "2026-06-30"),
    ("2026-06-30", "2026-06-30"),
    ("2026/6/30", "2026-06-30"),
    ("2026.6.30", "2026-06-30"),
    ("6月30日", "2026-06-30"),
    ("6月30号", "2026-06-30"),
    ("六月三十日", "2026-06-30"),
    ("6月底", "2026-06-30"),
    ("6月底前", "2026-06-30"),
    ("3月底前", "2026-03-31"),
    ("3月份", "2026-03-31"),
    ("3月", "2026-03-31"),
    ("12月31日", "2025-12-31"),
    ("12月底", "2025-12-31"),
    ("月底", "2025-12-31"),
    ("本月底", "2025-12-31"),
    ("下月底", "2026-01-31"),
    ("下个月底", "2026-01-31"),
    ("年底", "2025-12-31"),
    ("今年年底", "2025-12-31"),
    ("明年底", "2026-12-31"),
    ("2026年底", "2026-12-31"),
    ("上半年", "2026-06-30"),
    ("明年上半年", "2026-06-30"),
    ("下半年", "2025-12-31"),
    ("第一季度", "2026-03-31"),
    ("二季度", "2026-06-30"),
    ("下周五", "2025-12-26"),
    ("下星期三", "2025-12-24"),
    ("下礼拜一", "2025-12-22"),
    ("周五", "2025-12-26"),
    ("本周内", "2025-12-26"),
    ("周末", "2025-12-21"),
    ("明天", "2025-12-21"),
    ("后天", "2025-12-22"),
    ("10天内", "2025-12-30"),
    ("两周内", "2026-01-03"),
    ("一个月内", "2026-01-20"),
    ("3个月内", "2026-03-20"),
    ("5个工作日内", "2025-12-26"),
    ("下月15日", "2026-01-15"),
    ("1月15号前", "2026-01-15"),
]
EXTEND_WORDS = [
    "申请延期至",
    "申请延期到",
    "延期至",
    "延期到",
    "申请推迟到",
    "需推迟至",
    "申请顺延至",
    "申请延长至",
    "需延期至",
    "请求延期到",
]
SOFT_EXTEND_WORDS = ["推迟到", "推迟至", "顺延至", "延长至", "延后到", "往后延到"]


@pytest.mark.parametrize(("phrase", "iso"), DATE_FORMS)
@pytest.mark.parametrize("word", EXTEND_WORDS[:5])
def test_extension_family(phrase, iso, word):
    assert read(f"{word}{phrase}") == f"*:extend @{iso}"


@pytest.mark.parametrize("word", SOFT_EXTEND_WORDS)
@pytest.mark.parametrize(("phrase", "iso"), DATE_FORMS[::4])
def test_bare_postponing_is_asked_back(word, phrase, iso):
    assert read(f"{word}{phrase}") == f"*:extend @{iso} ?"


@pytest.mark.parametrize("word", EXTEND_WORDS)
def test_extension_words_with_a_reason_first(word):
    text = f"因资金未到位，无法按期完成，{word}2026年3月31日"
    assert read(text) == "*:extend @2026-03-31"
    assert read(f"SR-3 {word}2026年3月31日") == "SR-3:extend @2026-03-31"


@pytest.mark.parametrize(("phrase", "iso"), DATE_FORMS)
def test_a_date_with_a_percentage_is_kept(phrase, iso):
    assert read(f"进行中60%，预计{phrase}完成") == f"*:doing 60 @{iso}"


NEGATED_DONE = [
    "还没完成",
    "尚未完成",
    "未完成",
    "没有完成",
    "没完成",
    "仍未完成",
    "暂未完成",
    "还没有完成",
    "尚未全部完成",
    "并未完成",
    "还未办结",
]


@pytest.mark.parametrize("phrase", NEGATED_DONE)
def test_negations_are_never_done(phrase):
    assert read(phrase) == "*:doing|blocked ?"
    assert read(f"{phrase}，正在推进") == "*:doing"
    assert read(f"{phrase}，目前60%") == "*:doing 60"
    assert read(f"SR-3 {phrase}") == "SR-3:doing|blocked ?"


QUESTIONS = [
    "完成了吗？",
    "完成了吗",
    "已完成了吗?",
    "是否已完成",
    "是否已经办结？",
    "能不能算已完成？",
    "进行中吗？",
    "有困难吗",
    "需要签收吗？",
    "收到了吗？",
    "怎么算完成？",
    "什么时候完成？",
    "哪些已完成？",
]


@pytest.mark.parametrize("question", QUESTIONS)
def test_questions_report_nothing(question):
    assert read(question) == "—"
    assert read(f"SR-3 {question}") == "—"


@pytest.mark.parametrize("statement", ["已完成", "进行中60%", "有困难"])
@pytest.mark.parametrize("question", ["请问需要上传什么材料？", "还需要报送吗？"])
def test_a_question_after_a_statement_leaves_the_statement(statement, question):
    expected = read(statement)
    assert expected != "—"
    assert read(f"{statement}，{question}") == expected


PROMISES = ["争取", "力争", "预计", "计划", "将", "确保", "准备"]


@pytest.mark.parametrize("promise", PROMISES)
@pytest.mark.parametrize(
    ("phrase", "iso"),
    [("月底前", "2025-12-31"), ("6月底前", "2026-06-30"), ("年底前", "2025-12-31")],
)
def test_promises_are_not_done(promise, phrase, iso):
    assert read(f"{promise}{phrase}完成") == f"*:doing @{iso}|ack @{iso} ?"
    assert read(f"正在推进，{promise}{phrase}完成") == f"*:doing @{iso}"
    assert read(f"收到，{promise}{phrase}完成") == f"*:ack @{iso}"


REF_FORMS = ["SR-3", "sr-3", "SR3", "sr3", "ＳＲ－３", "ＳＲ３", "SR 3", "SR—3", "SR_3", "Sr-3"]


@pytest.mark.parametrize("ref", REF_FORMS)
def test_ref_forms(ref):
    assert read(f"{ref} 已完成") == "SR-3:done"
    assert named_refs(f"关于{ref}的情况", CODES) == ["SR-3"]


SEPARATORS = ["；", ";", "。", "，", "\n", " ", "  ", "！"]


@pytest.mark.parametrize("sep", SEPARATORS)
@pytest.mark.parametrize(
    ("first", "first_reads"),
    [("已完成", "done"), ("进行中60%", "doing 60"), ("有困难", "blocked")],
)
@pytest.mark.parametrize(
    ("second", "second_reads"),
    [("进行中 30%", "doing 30"), ("申请延期至6月30日", "extend @2026-06-30"), ("已办结", "done")],
)
def test_two_refs_in_one_message(sep, first, first_reads, second, second_reads):
    text = f"SR-3 {first}{sep}LN-12 {second}"
    assert read(text) == f"SR-3:{first_reads}; LN-12:{second_reads}"


@pytest.mark.parametrize("joiner", ["、", "和", "及", ",", "，", " ", "/", "与"])
def test_refs_listed_together_share_the_report(joiner):
    assert read(f"SR-3{joiner}SR-5 均已完成") == "SR-3:done; SR-5:done"
    assert read(f"已完成：SR-3{joiner}SR-5") == "SR-3:done; SR-5:done"


NOTES = [
    "已协调土地指标",
    "下周开会研究",
    "材料已上传，请查收",
    "谢谢",
    "辛苦了",
    "好久不见",
    "请问联系人是谁",
    "这个事项由我负责",
    "SR-3 材料已上传",
    "报送的是第二版",
    "月底",
    "2026年6月30日",
    "请查看附件",
    "明天上午开会",
    "已将情况报告分管领导",
    "关于SR-3，我们正在研究方案？",
    "哈哈",
    "。。。",
    "",
    "   ",
    "🙂",
    "SR-",
]


@pytest.mark.parametrize("text", NOTES)
def test_anything_else_is_no_reading(text):
    assert read(text) == "—"


def test_dates_never_before_today_for_relative_phrases():
    monday = date(2026, 3, 2)
    assert read("延期至本周内", monday) == "*:extend @2026-03-06"
    assert read("延期至月底", date(2026, 2, 28)) == "*:extend @2026-02-28"
    assert read("延期至3月底", date(2026, 4, 1)) == "*:extend @2027-03-31"
    assert read("延期至周一", monday) == "*:extend @2026-03-02"
    assert read("延期至2月29日", date(2027, 3, 1)) == "*:extend @2028-02-29"


def test_explicit_years_are_taken_as_written():
    assert read("延期至2025年6月30日") == "*:extend @2025-06-30"  # the service refuses it


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("十二", 12),
        ("三十", 30),
        ("二十五", 25),
        ("一百", 100),
        ("百", 100),
        ("十", 10),
        ("两", 2),
        ("零", 0),
        ("31", 31),
        ("一〇", 10),
    ],
)
def test_chinese_numbers(text, value):
    assert cn_int(text) == value


def test_reading_fields():
    (r,) = read_reply("已完成80%，月底前报送", today=TODAY, plan_codes=CODES)
    assert r.ref is None and r.status == "doing" and r.percent == 80
    assert r.date == date(2025, 12, 31) and not r.ambiguous and len(r.candidates) == 1
