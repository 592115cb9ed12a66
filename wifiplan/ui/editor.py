"""The map editor of the Plan and Site pages: select, move, add and delete APs; draw walls,
obstacles, zones and no-mount areas; undo and redo.

The map is a plotly chart with Streamlit's selection events (``st.plotly_chart(on_select=
...)``, points mode): a click selects the point under the pointer, either an AP, a vertex
of a wall or shape, or a point of the invisible grid that every map carries
(:func:`wifiplan.ui.figures.add_click_grid`, :func:`~wifiplan.ui.figures.add_hover_grid`),
which gives the position. What the click does depends on the tool. Every edit builds the new
site or plan through the library's constructors (:func:`wifiplan.site.site_from_dict`,
:func:`wifiplan.plan.plan_from_dict` and the outline check), so the file formats' checks
and messages apply, and goes through :func:`wifiplan.ui.state.edit` (undo, redo).
"""
from __future__ import annotations

from functools import partial

import streamlit as st

from ..errors import InputError
from ..rules import DEFAULT_MIN_RSSI_DBM
from ..site import site_from_dict
from . import figures, state

TOOLS = {"select": "Select / move", "drag": "Drag APs", "add_ap": "Add AP", "wall": "Wall",
         "obstacle": "Obstacle", "zone": "Zone", "no_mount": "No-mount area"}
SHAPES = {"wall": "walls", "obstacle": "obstacles", "zone": "zones", "no_mount": "no_mount"}
HINTS = {"select": "Click an AP (or a wall, obstacle, zone or area) to select it; with an AP "
                   "selected, click where it should go to move it there.",
         "drag": "Press the pencil (Edit) in the map's toolbar, then drag an AP and drop it "
                 "where it should go; with Edit off, a click places a new AP. Map and "
                 "metrics follow each drop.",
         "add_ap": "Click where the new AP goes.",
         "wall": "Click the wall's points one after the other, then Finish.",
         "obstacle": "Click the corners of the footprint, then Finish.",
         "zone": "Click the corners of the zone, then Finish.",
         "no_mount": "Click the corners of the area where no AP may be mounted, then Finish."}
TOOL, DRAWING, ERROR, FIGURE = "editor_tool", "editor_drawing", "editor_error", "editor_figure"
SOURCE = "map editor"
AP_TRACE = "APs (diamond: locked)"
KIND_NAMES = {"aps": "AP", "walls": "wall", "obstacles": "obstacle", "zones": "zone",
              "no_mount": "no-mount area"}


def ss():
    return st.session_state


def tool() -> str:
    return ss().get(TOOL) or "select"


def drawing() -> list:
    return ss().setdefault(DRAWING, [])


def drawing_closed() -> bool:
    return tool() in ("obstacle", "zone", "no_mount")


def _fail(exc: InputError | str) -> None:
    ss()[ERROR] = str(exc)


# ---- clicks -------------------------------------------------------------------------------

def _clicked(key: str):
    """(target, (x, y)) of the last click on the chart ``key``: target is ``("aps", id)``,
    ``("walls", i)`` ... or None for a bare position."""
    event = ss().get(key)
    points = (event or {}).get("selection", {}).get("points") or []
    fig = ss().get(FIGURE, {}).get(key)
    if not points or fig is None:
        return None, None
    pt = points[0]
    curve, idx = pt.get("curve_number"), pt.get("point_index")
    pos = (float(pt["x"]), float(pt["y"]))
    if curve is None or idx is None or not (0 <= curve < len(fig.data)):
        return None, pos
    trace = fig.data[curve]
    custom = trace.customdata
    if trace.name == AP_TRACE and custom is not None:
        return ("aps", str(custom[idx][0])), pos
    if custom is not None and idx < len(custom) and isinstance(custom[idx], str) \
            and ":" in custom[idx]:
        kind, i = custom[idx].split(":", 1)
        return (kind, int(i)), pos
    return None, pos


def on_click(key: str) -> None:
    """The chart's selection callback: do what the tool does with the click."""
    target, pos = _clicked(key)
    if pos is None:
        return
    ss().pop(ERROR, None)
    site, plan, t = state.site(), state.plan(), tool()
    if t == "drag":                     # the drag canvas takes the clicks then
        return
    try:
        if t == "select":
            sel = state.selection()
            if target is not None:
                state.select(target)
            elif sel is not None and sel[0] == "aps":
                new = state.with_ap_fields(plan, site, sel[1], {"x_m": round(pos[0], 2),
                                                                "y_m": round(pos[1], 2)},
                                           source=SOURCE)
                state.edit(f"move {sel[1]}", new_plan=new)
            else:
                state.select(None)
        elif t == "add_ap":
            if target is not None and target[0] == "aps":
                state.select(target)
                return
            new = state.with_new_ap(plan, site, round(pos[0], 2), round(pos[1], 2),
                                    source=SOURCE)
            state.edit(f"add {new.aps[-1].id}", new_plan=new)
            state.select(("aps", new.aps[-1].id))
        else:
            drawing().append([round(pos[0], 2), round(pos[1], 2)])
    except InputError as exc:
        _fail(exc)


# ---- shapes -------------------------------------------------------------------------------

def _free_name(existing, stem: str) -> str:
    names = {e.name for e in existing}
    n = len(existing) + 1
    while f"{stem}-{n}" in names:
        n += 1
    return f"{stem}-{n}"


def finish_shape() -> None:
    """The drawn points as a new wall, obstacle, zone or no-mount area of the site."""
    ss().pop(ERROR, None)
    site, t, pts = state.site(), tool(), list(drawing())
    kind = SHAPES.get(t)
    if kind is None or site is None:
        return
    d = site.to_dict()
    material = ss().get("editor_material")
    if t == "wall":
        item = ({"from": pts[0], "to": pts[1]} if len(pts) == 2 else {"points": pts})
        item["material"] = material
        what = f"draw a {material} wall"
    elif t == "obstacle":
        name = _free_name(site.obstacles, "obstacle")
        item = {"name": name, "polygon": pts, "material": material,
                "height_m": ss().get("editor_height_m")}
        what = f"draw obstacle {name}"
    elif t == "zone":
        name = (ss().get("editor_zone_name") or "").strip() or _free_name(site.zones, "zone")
        item = {"name": name, "polygon": pts, "min_rssi_dbm": ss().get("editor_zone_rssi")}
        what = f"draw zone {name}"
    else:
        name = _free_name(site.no_mount, "no-mount")
        item = {"name": name, "polygon": pts}
        what = f"draw no-mount area {name}"
    d.setdefault(kind, []).append(item)
    try:
        new = site_from_dict(d, source=SOURCE)
    except InputError as exc:
        _fail(exc)
        return
    state.edit(what, new_site=new)
    state.select((kind, len(getattr(new, kind)) - 1))
    ss()[DRAWING] = []


def cancel_shape() -> None:
    ss()[DRAWING] = []
    ss().pop(ERROR, None)


def delete_selected() -> None:
    """Delete the selected AP, wall, obstacle, zone or no-mount area."""
    ss().pop(ERROR, None)
    sel = state.selection()
    if sel is None:
        return
    kind, ref = sel
    if kind == "aps":
        state.edit(f"delete {ref}", new_plan=state.without_ap(state.plan(), ref))
    else:
        d = state.site().to_dict()
        d[kind].pop(ref)
        try:
            new = site_from_dict(d, source=SOURCE)
        except InputError as exc:
            _fail(exc)
            return
        state.edit(f"delete {KIND_NAMES[kind]} {ref + 1}", new_site=new)
    state.select(None)


def _undo() -> None:
    ss().pop(ERROR, None)
    ss()[DRAWING] = []
    state.undo()


def _redo() -> None:
    ss().pop(ERROR, None)
    ss()[DRAWING] = []
    state.redo()


def _tool_changed() -> None:
    ss()[DRAWING] = []
    ss().pop(ERROR, None)


# ---- the page parts -----------------------------------------------------------------------

def describe(site, plan, sel) -> str:
    kind, ref = sel
    if kind == "aps":
        a = plan.ap(ref)
        return (f"{a.id}: ({a.x_m:g}, {a.y_m:g}) m, {a.height_m:g} m high, ch {a.channel}, "
                f"{a.tx_power_dbm:g} dBm")
    item = getattr(site, kind)[ref]
    if kind == "walls":
        return (f"wall {ref + 1}: {item.material}, {len(item.points)} points from "
                f"({item.points[0][0]:g}, {item.points[0][1]:g}) to "
                f"({item.points[-1][0]:g}, {item.points[-1][1]:g})")
    if kind == "obstacles":
        return f"obstacle {item.name}: {item.material}, {item.height_m:g} m high"
    if kind == "zones":
        return f"zone {item.name}: min {item.min_rssi_dbm:g} dBm"
    return f"no-mount area {item.name}"


def toolbar(site, plan) -> None:
    """The tools, their settings, Finish/Cancel for a shape, Delete, Undo and Redo; the
    library's message for a refused edit right under them."""
    c = st.columns([5, 1, 1])
    c[0].segmented_control("Edit on the map", list(TOOLS), format_func=TOOLS.get,
                           default="select", key=TOOL, on_change=_tool_changed)
    undo_label, redo_label = state.undo_label(), state.redo_label()
    c[1].button("Undo", key="editor_undo", on_click=_undo, disabled=undo_label is None,
                icon=":material/undo:", help=f"Undo: {undo_label}" if undo_label else
                "Nothing to undo", width="stretch")
    c[2].button("Redo", key="editor_redo", on_click=_redo, disabled=redo_label is None,
                icon=":material/redo:", help=f"Redo: {redo_label}" if redo_label else
                "Nothing to redo", width="stretch")
    t = tool()
    opts = st.columns([2, 2, 1, 1, 2])
    if t in ("wall", "obstacle"):
        mats = sorted(site.material_losses())
        losses = site.material_losses()
        default = "concrete" if "concrete" in mats else mats[0]
        opts[0].selectbox("Material", mats, index=mats.index(default), key="editor_material",
                          format_func=lambda m: f"{m} ({losses[m]:g} dB)")
    if t == "obstacle":
        opts[1].number_input("Height [m]", value=2.0, step=0.5, key="editor_height_m")
    if t == "zone":
        opts[0].text_input("Zone name", key="editor_zone_name", placeholder="zone-N")
        opts[1].number_input("Min RSSI [dBm]", value=DEFAULT_MIN_RSSI_DBM, step=1.0,
                             key="editor_zone_rssi")
    if t in SHAPES:
        n = len(drawing())
        opts[2].button("Finish", key="editor_finish", on_click=finish_shape, type="primary",
                       disabled=n == 0, icon=":material/check:")
        opts[3].button("Cancel", key="editor_cancel", on_click=cancel_shape, disabled=n == 0)
    sel = state.selection()
    if sel is not None:
        opts[4].button(f"Delete {KIND_NAMES[sel[0]]}", key="editor_delete",
                       on_click=delete_selected, icon=":material/delete:")
    err = ss().get(ERROR)
    if err:
        st.error(err, icon=":material/error:")
    hint = HINTS[t]
    if t in SHAPES and drawing():
        hint += f" {len(drawing())} point{'s' if len(drawing()) != 1 else ''} so far."
    if sel is not None:
        hint += " Selected: " + describe(site, plan, sel) + "."
    st.caption(hint)


def chart(fig, key: str, **kwargs) -> None:
    """Show ``fig`` as the editable map ``key`` (clicks go to :func:`on_click`)."""
    fig.update_layout(uirevision=f"{key}-{state.site_key()}", clickmode="event+select")
    ss().setdefault(FIGURE, {})[key] = fig
    st.plotly_chart(fig, key=key, on_select=partial(on_click, key), selection_mode=("points",),
                    width="stretch", config={"scrollZoom": True, "displaylogo": False,
                                             "modeBarButtonsToRemove": ["select2d", "lasso2d"]},
                    **kwargs)


PROPERTY_FIELDS = [("id", "AP"), ("x_m", "x [m]"), ("y_m", "y [m]"), ("height_m", "height [m]"),
                   ("channel", "channel"), ("tx_power_dbm", "power [dBm]"), ("locked", "locked")]
PROP_ERROR = "ap_property_error"


def _property_changed(ap_id: str, field: str, key: str) -> None:
    value = ss()[key]
    if field == "id":
        value = str(value or "").strip()
    try:
        new = state.with_ap_fields(state.plan(), state.site(), ap_id, {field: value},
                                   source=SOURCE)
    except InputError as exc:
        ss()[PROP_ERROR] = (ap_id, field, str(exc))
        return
    ss().pop(PROP_ERROR, None)
    state.edit(f"set {field} of {ap_id}", new_plan=new)
    if field == "id":
        state.select(("aps", value))


def ap_properties(site, plan) -> None:
    """The selected AP's fields, each checked by the library when it changes; a refused value
    stays in its field with the library's message under it."""
    sel = state.selection()
    if sel is None or sel[0] != "aps":
        return
    a = plan.ap(sel[1])
    version = ss().get(state.PLAN_VERSION, 0)
    err = ss().get(PROP_ERROR)
    if err is not None and err[0] != a.id:
        ss().pop(PROP_ERROR, None)
        err = None
    st.markdown(f"**Selected AP {a.id}**")
    cols = st.columns(len(PROPERTY_FIELDS))
    channels = sorted(set(site.allowed_channels()) | {a.channel})
    for col, (field, label) in zip(cols, PROPERTY_FIELDS):
        key = f"ap_prop_{field}_{version}_{a.id}"
        args = dict(key=key, on_change=_property_changed, args=(a.id, field, key))
        if field == "id":
            col.text_input(label, value=a.id, **args)
        elif field == "channel":
            col.selectbox(label, channels, index=channels.index(a.channel), **args)
        elif field == "locked":
            col.checkbox(label, value=a.locked, **args)
        else:
            col.number_input(label, value=float(getattr(a, field)), step=0.1, format="%.2f",
                             **args)
        if err is not None and err[1] == field:
            col.error(err[2], icon=":material/error:")


# ---- the drag canvas ----------------------------------------------------------------------

DRAG_KEY, DRAG_FRAME = "editor_drag_canvas", "editor_drag_frame"
#: The drag canvas's width [px] (the page's map column).
CANVAS_WIDTH_PX = 900


def _objects(value) -> list | None:
    """The Fabric.js objects of the drag canvas's value in session state, if any."""
    drawing = (value or {}).get("drawing") if isinstance(value, dict) else None
    raw = (drawing or {}).get("raw") if isinstance(drawing, dict) else None
    objects = (raw or {}).get("objects") if isinstance(raw, dict) else None
    return objects if isinstance(objects, list) else None


def _centre(o: dict) -> tuple[float, float]:
    """The pixel centre of a Fabric.js circle, whatever its origin."""
    r = float(o.get("radius", 0.0))
    w, h = r * float(o.get("scaleX", 1.0)), r * float(o.get("scaleY", 1.0))
    off = {"left": 1.0, "top": 1.0, "center": 0.0, "right": -1.0, "bottom": -1.0}
    return (float(o.get("left", 0.0)) + off.get(o.get("originX", "left"), 0.0) * w,
            float(o.get("top", 0.0)) + off.get(o.get("originY", "top"), 0.0) * h)


def canvas_edits(objects: list, frame, aps) -> tuple[list, list]:
    """What the designer did on the drag canvas, from its objects (the drawing of
    :func:`wifiplan.ui.figures.canvas_aps` for ``aps`` as the canvas sends it back):
    ``moves``, ``(ap_id, x_m, y_m)`` for each AP dropped more than a pixel from where it
    is, and ``adds``, ``(x_m, y_m)`` for each circle drawn after the APs' own objects (a
    click with Edit off); positions rounded to 0.1 m (a pixel is about 0.27 m on a large
    hall)."""
    n = len(aps)
    tol_m = 1.0 / frame.px_per_m
    moves = []
    for a, o in zip(aps, objects[:n]):
        x, y = frame.to_m(*_centre(o))
        if abs(x - a.x_m) > tol_m or abs(y - a.y_m) > tol_m:
            moves.append((a.id, round(x, 1), round(y, 1)))
    adds = [tuple(round(v, 1) for v in frame.to_m(*_centre(o))) for o in objects[2 * n:]
            if str(o.get("type", "")).lower() == "circle"]
    return moves, adds


def _dragged() -> None:
    """The drag canvas sent a drawing: APs dropped elsewhere move there (one edit for all
    that moved), new circles add APs (:func:`canvas_edits`); each through the library's
    plan checks, whose message a refused edit shows."""
    objects, held = _objects(ss().get(DRAG_KEY)), ss().get(DRAG_FRAME)
    if objects is None or held is None:
        return
    frame, ids = held
    ss().pop(ERROR, None)
    site, plan = state.site(), state.plan()
    if plan is None or [a.id for a in plan.aps] != ids:
        return                                  # the plan changed under the canvas
    moves, adds = canvas_edits(objects, frame, plan.aps)
    try:
        new = plan
        for ap_id, x, y in moves:
            new = state.with_ap_fields(new, site, ap_id, {"x_m": x, "y_m": y}, source=SOURCE)
        if moves:
            state.edit("move " + ", ".join(m[0] for m in moves), new_plan=new)
            state.select(("aps", moves[-1][0]))
        for x, y in adds:
            p = state.with_new_ap(state.plan(), site, x, y, source=SOURCE)
            state.edit(f"add {p.aps[-1].id}", new_plan=p)
            state.select(("aps", p.aps[-1].id))
    except InputError as exc:
        _fail(exc)


def drag_canvas(site, aps, rm=None, kind: str = "rssi", ap_id: str | None = None) -> None:
    """The map as a drawing canvas (``streamlit-drawable-canvas``, Fabric.js): the picture
    of :func:`wifiplan.ui.figures.canvas_background` (map ``kind`` of radio map ``rm``, or
    the bare site when None) with one circle per AP that the designer drags with the
    canvas's Edit toggle on; a drop moves the AP (:func:`_dragged`), the page's Undo takes
    it back."""
    from streamlit_drawable_canvas import st_canvas
    if rm is not None:
        frame = figures.CanvasFrame.of(rm, CANVAS_WIDTH_PX)
    else:
        frame = figures.CanvasFrame.of_box(*site.bounds, CANVAS_WIDTH_PX)
    token = (frame, kind, ap_id, state.site_key())
    held = ss().get("editor_drag_background")
    if held is not None and held[0] is rm and held[1] == token:
        png = held[2]                  # a rerun that changed nothing under the APs
    else:
        cells = figures.layer_cells(rm, kind, ap_id) if rm is not None else None
        png = figures.canvas_background(site, frame, cells)
        ss()["editor_drag_background"] = (rm, token, png)
    ss()[DRAG_FRAME] = (frame, [a.id for a in aps])
    st_canvas(background_image=png, initial_drawing=figures.canvas_aps(aps, frame),
              drawing_mode="point", point_display_radius=5, stroke_width=1,
              stroke_color="#000000", fill_color="#ffffff", update_streamlit=True,
              width=frame.width_px, height=frame.height_px, key=DRAG_KEY,
              on_change=_dragged)
