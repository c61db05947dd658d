"""Builds the corpus's binary documents (.xlsx, .docx) into a folder: nothing binary is committed.

Each builder writes one file the way an office keeps it: title rows above the header, merged
category cells, two-level headers, real date cells, several units in one cell (one per line),
a task cell merged across the rows of its measures. Their answers are the `*.expected.yaml`
files of the same stem. Run by tests/importer/test_importer_corpus.py, or by hand:

    python tests/importer/corpus/build_binaries.py /tmp/corpus
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import docx
import openpyxl
from docx.shared import Pt

Row = list[object]


def _sheet(title: str, rows: list[Row], *, first_row: int = 1) -> openpyxl.Workbook:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = title
    for r, row in enumerate(rows, start=first_row):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                sheet.cell(row=r, column=c, value=value)
    return book


def x1_jiaxing_minsheng(target: Path) -> None:
    """Title rows, header on row 3, 类别 merged down its rows, units one per line in a cell."""
    rows: list[Row] = [
        ["嘉兴市2024年民生实事项目推进台账"],
        ["填报单位：市发展改革委（盖章）", "", "", "", "更新时间：2024年3月"],
        ["序号", "类别", "项目名称", "目标任务", "责任单位", "完成时限", "进展情况"],
        [
            1,
            "教育",
            "新建改扩建中小学幼儿园",
            "新建改扩建中小学、幼儿园25所",
            "市教育局\n各县（市、区）政府",
            "2024年9月底前",
            "已开工18所",
        ],
        [
            2,
            None,
            "中小学课后托管服务",
            "暑期托管服务覆盖有需求的小学生",
            "市教育局\n团市委",
            "2024年8月底前",
            "",
        ],
        [
            3,
            "养老",
            "居家养老服务",
            "新建示范型居家养老服务中心20家",
            "市民政局",
            "2024年11月底前",
            "",
        ],
        [
            4,
            None,
            "老年食堂",
            "新增老年食堂（助餐点）60个",
            "市民政局\n市市场监管局",
            "2024年10月底前",
            "已完成选址",
        ],
        [
            5,
            "交通",
            "公交线网优化",
            "新辟优化公交线路20条，更新新能源公交车100辆",
            "市交通运输局\n嘉兴公交集团",
            "2024年12月底前",
            "",
        ],
        [6, None, "农村公路提升", "新改建农村公路100公里", "市交通运输局", "2024年第三季度", ""],
    ]
    book = _sheet("民生实事", rows)
    sheet = book.active
    sheet.merge_cells("A1:G1")
    sheet.merge_cells("B4:B5")
    sheet.merge_cells("B6:B7")
    sheet.merge_cells("B8:B9")
    book.save(target)


def x2_taiyuan_twolevel(target: Path) -> None:
    """A two-level header: 责任单位 spans 牵头单位 / 配合单位; 备注 is no unit."""
    rows: list[Row] = [
        ["太原市城市管理局2025年重点工作任务分解表"],
        ["序号", "重点任务", "责任单位", "", "完成时限", "备注"],
        ["", "", "牵头单位", "配合单位", "", ""],
        [
            1,
            "实施城市道路综合整治，完成30条主次干道提质改造",
            "市政设施科",
            "规划建设科",
            "2025年10月底前",
            "重点工程",
        ],
        [
            2,
            "推进生活垃圾分类，城区居民小区分类覆盖率达到95%",
            "环境卫生科",
            "宣传教育科",
            "2025年12月底前",
            "",
        ],
        [
            3,
            "开展违法建设专项治理，拆除存量违法建设50万平方米",
            "执法监督科",
            "各区城市管理局",
            "2025年11月底前",
            "",
        ],
        [4, "建设城市运行管理服务平台", "数字城管中心", "", "2025年6月底前", "省考任务"],
        [5, "加强城市园林绿化养护管理", "园林绿化科", "各区城市管理局", "长期坚持", ""],
        [6, "推进公厕提标改造，新改建城市公厕60座", "环境卫生科", "", "三季度末", ""],
    ]
    book = _sheet("任务分解", rows)
    sheet = book.active
    sheet.merge_cells("A1:F1")
    for col in "ABEF":
        sheet.merge_cells(f"{col}2:{col}3")
    sheet.merge_cells("C2:D2")
    book.save(target)


def x3_wenzhou_datecells(target: Path) -> None:
    """Real date cells, integer numbers, a blank row, and a second sheet of filling notes."""
    rows: list[Row] = [
        ["温州市交通运输局2023年重点工作清单"],
        [],
        ["序号", "工作任务", "具体要求", "责任处室", "完成时间"],
        [1, "推进甬台温高速复线建设", "完成年度投资20亿元", "建设管理处", datetime(2023, 12, 31)],
        [2, "建设温州港乐清湾港区", "C区一期工程完工", "港航处", datetime(2023, 9, 30)],
        [3, "发展城乡客运一体化", "新增城乡公交一体化县2个", "运输服务处", datetime(2023, 10, 31)],
        [],
        [
            4,
            "推进交通运输数字化改革",
            "上线“浙里畅行”温州专区",
            "科技信息处",
            datetime(2023, 6, 30),
        ],
        [5, "开展交通安全生产专项整治", "每月开展一次重点领域隐患排查", "安全监督处", "每月"],
    ]
    book = _sheet("工作清单", rows)
    book.active.merge_cells("A1:E1")
    notes = book.create_sheet("填表说明")
    notes["A1"] = "1．请于每月25日前更新进展情况。"
    notes["A2"] = "2．联系人：办公室 张某某 0577-88888888"
    book.save(target)


def x4_shaoxing_merged_task(target: Path) -> None:
    """序号 and 实事项目 merged down the rows of their measures, each measure with its unit."""
    rows: list[Row] = [
        ["绍兴市2024年卫生健康为民办实事任务分解表"],
        ["序号", "实事项目", "具体措施", "责任单位", "时间节点"],
        [1, "提升基层医疗服务能力", "完成10家乡镇卫生院提标改造", "市卫生健康委", "3月底前启动"],
        [None, None, "新建村级规范化卫生室50家", "市卫生健康委", "6月底前"],
        [None, None, "推进基层医保结算全覆盖", "市医保局", "12月底前"],
        [2, "优化院前急救服务", "新增救护车20辆", "市急救中心", "9月底前"],
        [None, None, "城区急救平均反应时间控制在10分钟内", "市急救中心", "11月底前"],
        [3, "开展老年人健康服务", "为65岁以上老年人免费体检30万人", "市卫生健康委", "10月底前"],
    ]
    book = _sheet("分解表", rows)
    sheet = book.active
    sheet.merge_cells("A1:E1")
    for col in "AB":
        sheet.merge_cells(f"{col}3:{col}5")
        sheet.merge_cells(f"{col}6:{col}7")
    book.save(target)


def y1_foshan_docx_merged(target: Path) -> None:
    """A Word table: 类别 merged down its rows and one 责任单位 cell shared by two rows."""
    document = docx.Document()
    style = document.styles["Normal"]
    style.font.size = Pt(12)
    document.add_paragraph("佛山市南海区2024年教育重点工作任务清单")
    document.add_paragraph("为推动全区教育高质量发展，现将重点工作任务分解如下：")
    header = ["序号", "类别", "工作任务", "责任单位", "完成时限"]
    body = [
        ["1", "学位建设", "新建公办中小学5所，新增学位1.2万个", "区教育局", "2024年8月底前"],
        ["2", "", "推进公办幼儿园建设，新增公办园学位3000个", "区教育局", "2024年9月底前"],
        ["3", "教育质量", "推进义务教育优质均衡发展创建", "区教育局、区财政局", "2024年12月底前"],
        ["4", "", "实施“强师工程”，培训骨干教师1000人", "", "2024年11月底前"],
        [
            "5",
            "校园安全",
            "完成校园安防设施“四个100%”建设",
            "区教育局、区公安分局",
            "2024年6月底前",
        ],
    ]
    table = document.add_table(rows=1 + len(body), cols=len(header))
    for c, text in enumerate(header):
        table.cell(0, c).text = text
    for r, row in enumerate(body, start=1):
        for c, text in enumerate(row):
            if text:
                table.cell(r, c).text = text
    table.cell(1, 1).merge(table.cell(2, 1))
    table.cell(3, 1).merge(table.cell(4, 1))
    table.cell(3, 3).merge(table.cell(4, 3))  # one unit cell for rows 3 and 4
    document.add_paragraph("佛山市南海区教育局")
    document.add_paragraph("2024年1月15日")
    document.save(str(target))


def x5_dongguan_section_rows(target: Path) -> None:
    """Section rows (一、教育领域) merged across the sheet between numbered rows; units with
    「、」 and one per line; a 备注 column."""
    rows: list[Row] = [
        ["东莞市2024年十件民生实事任务分解表"],
        ["序号", "实事项目", "具体任务", "责任单位", "完成时限", "备注"],
        ["一、教育领域"],
        [1, "新增公办学位", "新增公办中小学学位3万个", "市教育局、各镇街（园区）", "8月底前", ""],
        [
            2,
            "校园午餐供餐",
            "推动公办中小学校内午餐供餐全覆盖",
            "市教育局\n市市场监管局",
            "9月底前",
            "秋季学期",
        ],
        ["二、医疗卫生领域"],
        [3, "社区卫生服务", "新建社区卫生服务站20个", "市卫生健康局", "11月底前", ""],
        [
            4,
            "老年人健康体检",
            "为65岁以上老年人免费体检",
            "市卫生健康局、市医保局",
            "第四季度",
            "",
        ],
        ["三、交通出行领域"],
        [5, "公交服务提升", "新开优化公交线路30条", "市交通运输局", "6月底前", "含微循环线路"],
    ]
    book = _sheet("分解表", rows)
    sheet = book.active
    sheet.merge_cells("A1:F1")
    for row in (3, 6, 9):
        sheet.merge_cells(f"A{row}:F{row}")
    book.save(target)


def x6_wuhu_person_column(target: Path) -> None:
    """Three title rows, the header on row 4, a 责任人 column of people, mixed date texts."""
    rows: list[Row] = [
        ["附件2"],
        ["芜湖市镜湖区教育局2024年重点工作推进表"],
        ["填报时间：2024年1月", "", "", "", "", "单位：项"],
        ["序号", "工作事项", "主要内容", "责任科室", "责任人", "时间进度"],
        [1, "学前教育普惠扩容", "新增普惠性学位600个", "学前教育科", "刘某", "8月底前完成"],
        [
            2,
            "义务教育优质均衡",
            "迎接国家义务教育优质均衡发展督导评估",
            "基础教育科",
            "周某",
            "11月底前",
        ],
        [3, "校园安全管理", "每月开展一次校园安全隐患排查", "安全科", "吴某", "长期"],
        [4, "教师队伍建设", "招聘新教师120名", "人事科", "郑某", "7月底前完成"],
    ]
    book = _sheet("推进表", rows)
    sheet = book.active
    sheet.merge_cells("A2:F2")
    book.save(target)


CJK_FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")  # fonts-noto-cjk


def _pdf():  # fpdf2 is imported only where a PDF is built
    import fpdf

    pdf = fpdf.FPDF()
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font("noto", fname=str(CJK_FONT), collection_font_number=2)  # Noto Sans CJK SC
    pdf.set_font("noto", size=11)
    return pdf


def p1_kunshan_pdf_prose(target: Path) -> None:
    """A 工作要点 printed to PDF: a running header and page numbers on every page, items in
    prose with （牵头单位：…；配合单位：…） notes, one item broken over a page."""
    pdf = _pdf()
    pdf.set_margins(20, 25)

    def header() -> None:
        pdf.set_y(10)
        pdf.cell(0, 6, "昆山市人民政府办公室文件", align="C")
        pdf.set_y(25)

    def footer() -> None:
        pdf.set_y(-15)
        pdf.cell(0, 6, f"— {pdf.page_no()} —", align="C")

    pdf.header = header  # type: ignore[method-assign]
    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    lines = [
        "昆山市2024年城市管理工作要点",
        "一、提升市容环境品质",
        "1.开展市容环境综合整治。对主次干道沿街立面、店招店牌实施规范整治，9月底前完成"
        "整治道路50条。（牵头单位：市城管局；配合单位：各区镇人民政府）",
        "2.推进垃圾分类提质扩面。新建垃圾分类示范小区60个，年底前生活垃圾回收利用率达到"
        "40%。（牵头单位：市城管局；配合单位：市商务局、市机关事务管理局）",
        "二、完善城市基础设施",
        "3.实施城市道路提升工程。完成城市道路大中修30万平方米，10月底前全面完工。"
        "（牵头单位：市住建局）",
        "4.建设城市公园绿地。新建改造城市公园6个、口袋公园20个，11月底前完成。"
        "（牵头单位：市住建局；配合单位：市自然资源和规划局）",
    ]
    for text in lines:
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(262)  # the next item starts near the page's end and runs onto the next page
    for text in [
        "5.加强城市照明管理。实施城市照明节能改造，更换LED路灯3000盏，上半年完成改造任务"
        "并投入使用，全面提升城市夜景照明品质。（牵头单位：市城管局）",
        "6.常态化开展违法建设治理。实行“发现、制止、拆除”全流程管控。（牵头单位：市城管局；"
        "配合单位：各区镇人民政府；完成时限：长期坚持）",
    ]:
        pdf.multi_cell(0, 8, text, new_x="LMARGIN", new_y="NEXT")
    pdf.multi_cell(
        0, 8, "抄送：市委办公室，市人大常委会办公室，市政协办公室。", new_x="LMARGIN", new_y="NEXT"
    )
    pdf.output(str(target))


def p2_yangzhou_pdf_table(target: Path) -> None:
    """A ruled 责任分解表 printed to PDF over two pages, the header row repeated."""
    import fpdf

    pdf = _pdf()
    pdf.add_page()
    pdf.multi_cell(0, 8, "扬州市2025年民生实事项目责任分解表", new_x="LMARGIN", new_y="NEXT")
    rows = [
        ("1", "新建改扩建中小学幼儿园12所", "市教育局", "各县（市、区）政府", "2025年8月底前"),
        ("2", "新增养老机构护理型床位800张", "市民政局", "市卫生健康委", "2025年11月底前"),
        ("3", "改造城镇老旧小区40个", "市住房城乡建设局", "各县（市、区）政府", "2025年10月底前"),
        ("4", "新增公共充电桩2000个", "市发展改革委", "供电公司", "2025年12月底前"),
        ("5", "实施农村供水管网改造300公里", "市水利局", "", "2025年9月底前"),
        ("6", "开展城乡居民“两病”免费筛查5万人", "市卫生健康委", "", "2025年第三季度"),
    ]
    plain = fpdf.fonts.FontFace()
    with pdf.table(
        col_widths=(12, 70, 35, 40, 33), headings_style=plain, line_height=7, repeat_headings=1
    ) as table:
        head = table.row()
        for text in ("序号", "项目内容", "牵头单位", "配合单位", "完成时限"):
            head.cell(text)
        for row in rows:
            line = table.row()
            for text in row:
                line.cell(text)
    pdf.output(str(target))


BUILDERS: dict[str, Callable[[Path], None]] = {
    "x1_jiaxing_minsheng.xlsx": x1_jiaxing_minsheng,
    "x2_taiyuan_twolevel.xlsx": x2_taiyuan_twolevel,
    "x3_wenzhou_datecells.xlsx": x3_wenzhou_datecells,
    "x4_shaoxing_merged_task.xlsx": x4_shaoxing_merged_task,
    "x5_dongguan_section_rows.xlsx": x5_dongguan_section_rows,
    "x6_wuhu_person_column.xlsx": x6_wuhu_person_column,
    "y1_foshan_docx_merged.docx": y1_foshan_docx_merged,
    "p1_kunshan_pdf_prose.pdf": p1_kunshan_pdf_prose,
    "p2_yangzhou_pdf_table.pdf": p2_yangzhou_pdf_table,
}


def build(name: str, folder: Path) -> Path:
    """Writes the document `name` into `folder` and returns its path."""
    target = Path(folder) / name
    BUILDERS[name](target)
    return target


if __name__ == "__main__":
    out = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    out.mkdir(parents=True, exist_ok=True)
    for name in BUILDERS:
        print(build(name, out))
