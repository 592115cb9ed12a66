"""The PDF of a phase report (A4 portrait), drawn with reportlab from the report's blocks.

Latin text is set in Helvetica; any character outside Latin-1 (Japanese terms of the seed,
symbols) in a font with Japanese glyphs: IPAexGothic when it is installed (the
``japanize-matplotlib`` package ships it; embedded as a subset), else reportlab's built-in
Adobe-Japan1 CID font HeiseiKakuGo-W5 (not embedded; PDF viewers supply it).
"""
from __future__ import annotations

import io
import re
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

PAGE_MARGIN_MM = 15.0


@lru_cache(maxsize=1)
def japanese_font() -> str:
    """Register and return the name of a font with Japanese glyphs."""
    from reportlab.pdfbase import pdfmetrics
    for path in _japanese_font_files():
        try:
            from reportlab.pdfbase.ttfonts import TTFont
            pdfmetrics.registerFont(TTFont("JP", str(path)))
            return "JP"
        except Exception:            # a broken or unsupported font file: try the next
            continue
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    pdfmetrics.registerFont(UnicodeCIDFont("HeiseiKakuGo-W5"))
    return "HeiseiKakuGo-W5"


def _japanese_font_files() -> list[Path]:
    import importlib.util
    out = []
    spec = importlib.util.find_spec("japanize_matplotlib")
    if spec and spec.submodule_search_locations:
        for loc in spec.submodule_search_locations:
            out += sorted(Path(loc).glob("fonts/*.ttf"))
    for d in ("/usr/share/fonts/opentype/ipaexfont-gothic",
              "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
              "/usr/share/fonts/truetype/ipaexfont-gothic"):
        p = Path(d)
        out += sorted(p.glob("*.ttf")) if p.is_dir() else ([p] if p.is_file() else [])
    return out


_WIDE = re.compile(r"([^\x00-\xff]+)")


def markup(text: str) -> str:
    """Escape text for a reportlab Paragraph and set non-Latin-1 runs in the Japanese font."""
    s = escape(str(text))
    if _WIDE.search(s):
        jp = japanese_font()
        s = _WIDE.sub(lambda m: f'<font name="{jp}">{m.group(1)}</font>', s)
    return s


def _styles():
    from reportlab.lib import colors
    from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
    ss = getSampleStyleSheet()
    base = ParagraphStyle("base", parent=ss["Normal"], fontName="Helvetica", fontSize=9,
                          leading=11.5)
    return {
        "h1": ParagraphStyle("h1", parent=base, fontName="Helvetica-Bold", fontSize=16,
                             leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=base, fontName="Helvetica-Bold", fontSize=12.5,
                             leading=16, spaceBefore=10, spaceAfter=4,
                             textColor=colors.HexColor("#12355b")),
        "h3": ParagraphStyle("h3", parent=base, fontName="Helvetica-Bold", fontSize=10.5,
                             leading=13, spaceBefore=6, spaceAfter=3),
        "p": ParagraphStyle("p", parent=base, spaceAfter=4),
        "note": ParagraphStyle("note", parent=base, backColor=colors.HexColor("#fff8e0"),
                               borderPadding=3, spaceBefore=3, spaceAfter=6),
        "cap": ParagraphStyle("cap", parent=base, fontSize=8, leading=10,
                              textColor=colors.HexColor("#444444"), spaceAfter=8),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=9.6),
        "cell_s": ParagraphStyle("cell_s", parent=base, fontSize=7, leading=8.4),
        "head": ParagraphStyle("head", parent=base, fontName="Helvetica-Bold", fontSize=8,
                               leading=9.6),
        "head_s": ParagraphStyle("head_s", parent=base, fontName="Helvetica-Bold", fontSize=7,
                                 leading=8.4),
        "verdict": ParagraphStyle("verdict", parent=base, fontSize=11, leading=14,
                                  borderPadding=5, spaceBefore=4, spaceAfter=8),
    }


_STATUS_COLOURS = {"PASS": "#0a7a22", "ok": "#0a7a22", "FAIL": "#c00000",
                   "not measured": "#8a6d00", "configure": "#8a6d00", "verify": "#8a6d00",
                   "check": "#8a6d00"}


def _cell(text, style, status=False):
    from reportlab.platypus import Paragraph
    s = markup(text)
    if status or text in ("PASS", "FAIL"):
        c = _STATUS_COLOURS.get(str(text))
        if c:
            s = f'<font color="{c}"><b>{s}</b></font>'
    return Paragraph(s, style)


def _table(t, st, width):
    from reportlab.lib import colors
    from reportlab.platypus import Table, TableStyle
    cs, hs = (st["cell_s"], st["head_s"]) if t.small else (st["cell"], st["head"])
    n = len(t.columns)
    rel = t.widths or [1.0] * n
    tot = float(sum(rel))
    widths = [width * w / tot for w in rel]
    data = [[_cell(c, hs) for c in t.columns]]
    for row in t.rows:
        data.append([_cell(v, cs, status=(j == t.status_col)) for j, v in enumerate(row)])
    tab = Table(data, colWidths=widths, repeatRows=1, hAlign="LEFT")
    tab.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b0b0")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LEFTPADDING", (0, 0), (-1, -1), 2.5), ("RIGHTPADDING", (0, 0), (-1, -1), 2.5),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5),
    ]))
    return tab


def render_pdf(blocks, title: str, footer: str) -> bytes:
    """The PDF bytes of a report's blocks. Reproducible: no creation date or random id."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import (CondPageBreak, Image, KeepTogether, Paragraph,
                                    SimpleDocTemplate, Spacer, Table, TableStyle)
    from reportlab import rl_config
    rl_config.useA85 = 0          # binary image streams: smaller, and no slow ASCII85 pass
    st = _styles()
    buf = io.BytesIO()
    margin = PAGE_MARGIN_MM * mm
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=margin, rightMargin=margin,
                            topMargin=margin, bottomMargin=margin + 4 * mm, title=title,
                            author="wifiplan", subject=title, creator="wifiplan",
                            invariant=1)
    width = A4[0] - 2 * margin
    max_h = A4[1] - 2 * margin - 12 * mm
    story = []
    for b in blocks:
        if b.kind in ("h1", "h2", "h3"):
            if b.kind == "h2":
                story.append(CondPageBreak(40 * mm))
            story.append(Paragraph(markup(b.text), st[b.kind]))
        elif b.kind == "p":
            story.append(Paragraph(markup(b.text), st["p"]))
        elif b.kind == "note":
            story.append(Paragraph(markup(b.text), st["note"]))
        elif b.kind == "verdict":
            col = _STATUS_COLOURS.get(b.text, "#000000")
            story.append(Paragraph(
                f'Phase result: <font color="{col}"><b>{b.text}</b></font> '
                f'<font size="9">({markup("; ".join(b.items))})</font>', st["verdict"]))
        elif b.kind == "kv":
            data = [[_cell(k, st["head"]), _cell(v, st["cell"])] for k, v in b.items]
            tab = Table(data, colWidths=[0.3 * width, 0.7 * width], hAlign="LEFT")
            tab.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#b0b0b0")),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("TOPPADDING", (0, 0), (-1, -1), 1.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
            story += [tab, Spacer(1, 4)]
        elif b.kind == "table":
            story += [_table(b.table, st, width), Spacer(1, 5)]
        elif b.kind == "signoff":
            # room to sign: 12 mm rows, kept on one page with its sentence
            data = [[_cell(c, st["head"]) for c in ("Role", "Name", "Date", "Signature")]]
            data += [[_cell(r, st["cell"]), "", "", ""] for r in b.items]
            tab = Table(data, colWidths=[0.3 * width, 0.27 * width, 0.15 * width,
                                         0.28 * width],
                        rowHeights=[None] + [12 * mm] * len(b.items), hAlign="LEFT")
            tab.setStyle(TableStyle([
                ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#808080")),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef5")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
            story += [CondPageBreak(60 * mm), Paragraph(markup(b.text), st["p"]), tab]
        elif b.kind == "figure":
            f = b.figure
            w = width
            h = w * f.height_in / f.width_in
            if h > max_h - 20 * mm:
                h = max_h - 20 * mm
                w = h * f.width_in / f.height_in
            img = Image(io.BytesIO(f.png), width=w, height=h)
            cap = Paragraph(f"<b>{markup(f.title)}.</b> {markup(f.caption)}", st["cap"])
            story.append(KeepTogether([img, cap]))

    def on_page(canvas, doc_):
        canvas.saveState()
        canvas.setFont("Helvetica", 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(margin, margin - 2 * mm, footer)
        canvas.drawRightString(A4[0] - margin, margin - 2 * mm, f"page {doc_.page}")
        canvas.restoreState()

    doc.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buf.getvalue()
