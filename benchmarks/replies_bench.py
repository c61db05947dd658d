"""Reading liaison replies (bot.core.replies.read_reply): 10,000 replies in under a second.

    python benchmarks/replies_bench.py [REPLIES] [RUNS]

Builds REPLIES (default 10,000) replies from realistic pieces (statuses, percentages in every
form, dates, refs, negations, questions, notes that report nothing, 5 to 120 characters), then
reads them all RUNS times (default 5): median, best and worst wall time and the process CPU
time of the best run, and the replies per second. Target: 10,000 in under 1 s.
"""

from __future__ import annotations

import random
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.core.replies import PlanCodes, read_reply, ref_pattern

TODAY = date(2025, 12, 24)
CODES = {"SR", "LN", "GZ", "NC"}
TARGET_S = 1.0

STATUS = [
    "已完成",
    "进行中",
    "正在推进",
    "有困难",
    "资金未到位",
    "收到",
    "好的",
    "已办结",
    "还没完成",
    "基本完成",
    "完成了吗？",
    "卡住了",
    "推进中",
    "已启动前期工作",
]
PERCENT = ["", "", "80%", "８０％", "百分之六十", "七成", "一半", "进度75", "-5%", "120%"]
DATES = [
    "",
    "",
    "月底前报送",
    "预计3月底完成",
    "申请延期至2026年6月30日",
    "下周五前完成",
    "争取年底前完成",
    "推迟到6月30日",
    "本周内完成",
]
NOTES = [
    "",
    "已协调土地指标",
    "相关材料已上传，请查收。",
    "下周召开专题会议研究解决",
    "感谢督办组的指导 👍",
    "具体情况如下：一是完成方案编制；二是召开部署会；三是推进项目建设",
]


def replies(n: int, seed: int = 14) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        parts = []
        for _ in range(rng.choice([1, 1, 1, 2, 3])):
            ref = rng.choice(["", "", f"{rng.choice(sorted(CODES))}-{rng.randint(1, 60)} "])
            parts.append(ref + rng.choice(STATUS) + rng.choice(PERCENT) + "，" + rng.choice(DATES))
        text = "；".join(parts) + rng.choice(["", "。", "！"]) + rng.choice(NOTES)
        out.append(text)
    return out


def _time(texts: list[str], codes: PlanCodes, runs: int) -> tuple[list[float], list[float], int]:
    walls, cpus = [], []
    found = 0
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        found = sum(len(read_reply(t, today=TODAY, plan_codes=codes)) for t in texts)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, found


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    runs = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    texts = replies(n)
    print(f"{n} replies, {sum(map(len, texts)) / n:.0f} characters on average")
    # the bot reads one reply per update (codes given as they are); a batch compiles them once
    for label, codes in (("codes per reply", CODES), ("ref_pattern once", ref_pattern(CODES))):
        walls, cpus, found = _time(texts, codes, runs)
        best = min(walls)
        print(
            f"{label}: {found} readings; wall median {statistics.median(walls):.3f} s, "
            f"best {best:.3f} s, worst {max(walls):.3f} s; cpu (best run) {min(cpus):.3f} s; "
            f"{n / best:,.0f} replies/s; target 10,000 in {TARGET_S:.0f} s "
            f"{'met' if best * 10_000 / n < TARGET_S else 'MISSED'}"
        )


if __name__ == "__main__":
    main()
