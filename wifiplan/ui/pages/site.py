"""Site page: pick a sample, upload a site YAML, or import a DXF drawing, an Ekahau project
or a floor image."""
from __future__ import annotations

import pandas as pd
import streamlit as st
from shapely.geometry import Polygon

from wifiplan import dxf, esx, floorimage as fim
from wifiplan.errors import InputError
from wifiplan.radio.hall import Building, room_table
from wifiplan.materials import MATERIALS
from wifiplan.plan import load_plan, parse_plan
from wifiplan.requirements import LABELS, profile_names, profile_of
from wifiplan.site import (load_site, parse_site, sample_plan_path, sample_sites, site_from_dict,
                           site_to_yaml, with_zone_requirements)
from wifiplan.ui import editor, figures, state

SOURCES = ["Sample site", "Site YAML", "DXF drawing", "Ekahau project", "Floor image"]
ROLES = ["ignore", "wall", "obstacle", "outline"]


def load_sample() -> None:
    samples = sample_sites()
    c1, c2 = st.columns([3, 2])
    name = c1.selectbox("Sample site", list(samples), key="sample_name",
                        help="The bundled sample sites (wifiplan samples lists them).")
    with_plan = c2.checkbox("with its hand plan", value=True, key="sample_with_plan",
                            help="Also load the sample's plan (NAME.plan.yaml beside it).")
    if st.button("Load sample", type="primary", key="load_sample"):
        path = samples[name]
        try:
            site = load_site(path)
            plan_path = sample_plan_path(path)
            plan = load_plan(plan_path, site=site) if with_plan and plan_path.exists() else None
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        state.set_site(site, f"sample {path.name}", plan=plan)
        st.toast(f"Loaded {site.name}" + (f" with {len(plan.aps)} APs" if plan else ""))


def upload_yaml() -> None:
    up = st.file_uploader("Site YAML", type=["yaml", "yml"], key="site_upload",
                          help="A site file as described in docs/site-format.md.")
    plan_up = st.file_uploader("Plan YAML (optional)", type=["yaml", "yml"], key="site_plan_upload")
    if up is None:
        return
    shown = state.upload_name(up)
    token = (up.file_id, plan_up.file_id if plan_up else None)
    if st.session_state.get("site_upload_done") == token:
        return                      # already loaded: keep the edits made since
    try:
        site = parse_site(state.uploaded_text(up), source=shown)
        plan = (parse_plan(state.uploaded_text(plan_up), source=state.upload_name(plan_up),
                           site=site) if plan_up else None)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.session_state["site_upload_done"] = token
    state.set_site(site, f"upload {shown}", plan=plan)
    st.toast(f"Loaded {site.name} from {shown}")


def import_dxf() -> None:
    up = st.file_uploader("DXF drawing", type=["dxf"], key="dxf_upload",
                          help="Units come from $INSUNITS (e.g. millimetres); map each layer "
                               "to what it is below.")
    if up is None:
        return
    shown = state.upload_name(up)
    try:
        doc = dxf.read_dxf(up.getvalue(), name=shown)
        layers = dxf.dxf_layers(doc)
        unit_name, _ = dxf.drawing_units(doc)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.caption(f"{shown}: {len(layers)} layers with entities, drawing units {unit_name}. "
               "Map the wall layers to a material, closed shapes on obstacle layers become "
               "obstacles; without an outline layer the outline is the drawing's largest "
               "closed polyline that holds the walls, else the extent of everything drawn.")
    table = pd.DataFrame([{"layer": r["layer"], "lines": r["lines"], "closed": r["closed"],
                           "entities": r["entities"], "role": dxf.guess_layer_role(r["layer"]),
                           "material": dxf.guess_layer_material(r["layer"]),
                           "height_m": dxf.DEFAULT_OBSTACLE_HEIGHT_M}
                          for r in layers])
    mats = sorted(MATERIALS)
    edited = st.data_editor(
        table, key=f"dxf_layers_{up.file_id}", hide_index=True, width="stretch",
        disabled=["layer", "lines", "closed", "entities"],
        column_config={
            "role": st.column_config.SelectboxColumn("role", options=ROLES, required=True),
            "material": st.column_config.SelectboxColumn("material", options=mats),
            "height_m": st.column_config.NumberColumn("obstacle height [m]", min_value=0.0,
                                                      max_value=50.0, step=0.1)})
    c1, c2, c3 = st.columns(3)
    name = c1.text_input("Site name", value=shown.rsplit(".", 1)[0], key="dxf_name")
    units = c2.selectbox("Units", ["from the drawing"] + list(dxf.UNIT_CODES), key="dxf_units")
    domain = c3.selectbox("Regulatory domain", ["seed", "JP", "US", "EU"], key="dxf_domain")
    if st.button("Import drawing", type="primary", key="dxf_import"):
        walls = {r.layer: r.material for r in edited.itertuples() if r.role == "wall"}
        obstacles = {r.layer: (r.material, float(r.height_m)) for r in edited.itertuples()
                     if r.role == "obstacle"}
        outline = [r.layer for r in edited.itertuples() if r.role == "outline"]
        try:
            if len(outline) > 1:
                raise InputError(f"{len(outline)} outline layers chosen, expected at most one",
                                 source=shown)
            missing = [lay for lay, m in list(walls.items()) + [(k, v[0]) for k, v in
                                                                 obstacles.items()] if not m]
            if missing:
                raise InputError(f"layer '{missing[0]}' has no material, pick one",
                                 source=shown)
            site, rep = dxf.import_dxf(up.getvalue(), walls, source_name=shown, name=name,
                                       obstacle_layers=obstacles,
                                       outline_layer=outline[0] if outline else None,
                                       units=None if units == "from the drawing" else units,
                                       regulatory_domain=domain)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        state.set_site(site, f"DXF {shown}")
        st.success(f"Imported {site.name}: {rep.summary()}; outline: {rep.outline_from}",
                   icon=":material/check:")
        for w in rep.warnings:
            st.warning(w)


def import_esx() -> None:
    up = st.file_uploader("Ekahau project", type=["esx"], key="esx_upload",
                          help="An Ekahau .esx project: one floor becomes the site and its "
                               "APs' 5 GHz radios the plan; what does not map is listed.")
    if up is None:
        return
    shown = state.upload_name(up)
    try:
        floors = esx.esx_floors(up, name=shown)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    floor = (st.selectbox("Floor", floors, key="esx_floor") if len(floors) > 1
             else floors[0])
    token = (up.file_id, floor)
    if st.session_state.get("esx_upload_done") == token:
        return                      # already loaded: keep the edits made since
    if len(floors) > 1 and not st.button("Import floor", type="primary", key="esx_import"):
        return
    try:
        site, plan, rep = esx.import_esx(up, floor, source_name=shown)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    background = None
    if rep.image is not None and rep.image_extent_m is not None:
        try:
            background = {"image": fim.display_copy(fim.read_image(rep.image, shown)),
                          "extent": rep.image_extent_m}
        except InputError as exc:
            rep.warnings.append(f"the floor image is not shown: {exc}")
    st.session_state["esx_upload_done"] = token
    st.session_state["esx_report"] = (f"Imported {site.name} from {shown}: {rep.summary()}",
                                      list(rep.warnings))
    state.set_site(site, f"Ekahau {shown}", plan=plan, background=background)


def show_esx_report() -> None:
    held = st.session_state.get("esx_report")
    if held is None or not str(st.session_state.get(state.SITE_LABEL, "")).startswith(
            "Ekahau "):
        return
    st.success(held[0], icon=":material/check:")
    for w in held[1]:
        st.warning(w)


def import_image() -> None:
    up = st.file_uploader("Floor image", type=["png", "jpg", "jpeg", "gif", "bmp", "tif", "tiff"],
                          key="image_upload",
                          help="A scan or export of the floor plan. Mark two points whose real "
                               "distance you know (a dimension line, a column pitch).")
    if up is None:
        return
    shown = state.upload_name(up)
    try:
        img = fim.read_image(up.getvalue(), shown)
    except InputError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    w, h = img.size
    st.caption(f"{shown}: {w} x {h} px. Hover the image to read pixel coordinates.")
    fig = figures.image_figure(img, points=[(st.session_state.get("img_x1", 0.0),
                                             st.session_state.get("img_y1", 0.0)),
                                            (st.session_state.get("img_x2", float(w)),
                                             st.session_state.get("img_y2", 0.0))])
    st.plotly_chart(fig, width="stretch", key="image_preview")
    c = st.columns(5)
    x1 = c[0].number_input("A: x [px]", 0.0, float(w), 0.0, key="img_x1")
    y1 = c[1].number_input("A: y [px]", 0.0, float(h), 0.0, key="img_y1")
    x2 = c[2].number_input("B: x [px]", 0.0, float(w), float(w), key="img_x2")
    y2 = c[3].number_input("B: y [px]", 0.0, float(h), 0.0, key="img_y2")
    dist = c[4].number_input("A-B distance [m]", 0.0, 5000.0, 0.0, step=0.5, key="img_dist")
    c1, c2 = st.columns(2)
    name = c1.text_input("Site name", value=shown.rsplit(".", 1)[0], key="img_name")
    domain = c2.selectbox("Regulatory domain", ["seed", "JP", "US", "EU"], key="img_domain")
    if st.button("Create site from image", type="primary", key="img_create"):
        try:
            m_per_px = fim.scale_from_points((x1, y1), (x2, y2), dist)
            fi = fim.FloorImage(w, h, m_per_px)
            site = site_from_dict(fim.site_from_image(fi, name, regulatory_domain=domain),
                                  source=shown)
        except InputError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        state.set_site(site, f"image {shown}",
                       background={"image": fim.display_copy(img),
                                   "extent": (0.0, 0.0, fi.width_m, fi.height_m)})
        st.success(f"Created {site.name}: {fi.width_m:.1f} m x {fi.height_m:.1f} m at "
                   f"{m_per_px * 1000:.1f} mm per pixel", icon=":material/check:")


def building_caption(site, model) -> str:
    """The hall's envelope and what the radio model makes of it (defaults said as such)."""
    b = site.building
    text = (f"Building: ceiling {b.ceiling_height_m:g} m, {b.roof} roof, {b.floor} floor"
            + (" (the defaults: no building block in the site file)" if b == Building() else ""))
    if model is not None and model.is_hall:
        rooms = model.room.rooms
        text += (f" · radio model: hall (direct ray, floor and roof reflections, diffuse field "
                 f"of {rooms.count} coupled room{'s' if rooms.count != 1 else ''}, "
                 f"reverberation time {model.room.reverberation_time_s * 1e9:.0f} ns)")
    elif model is not None:
        text += f" · radio model: {model.model if isinstance(model.model, str) else 'custom'}"
    return text


#: The requirement columns of the zone table, with the library's keys.
REQUIREMENT_COLUMNS = {"min RSSI [dBm]": "min_rssi_dbm", "min SINR [dB]": "min_sinr_db",
                       "co-channel separation [dB]": "co_channel_separation_db",
                       "boundary band": "boundary_band", "airtime budget": "airtime_budget",
                       "secondary [dBm]": "secondary_rssi_dbm", "min SNR [dB]": "min_snr_db",
                       "min data rate [Mb/s]": "min_data_rate_mbps",
                       "max APs per channel": "channel_overlap_max_aps",
                       "overlap level [dBm]": "channel_overlap_dbm"}


def _same(a, b) -> bool:
    """Two cells of the zone table hold the same value (empty cells: None or NaN)."""
    empty = [v is None or (isinstance(v, float) and v != v) for v in (a, b)]
    return all(empty) if any(empty) else a == b


def _overrides_text(site, z) -> str:
    own = site.zone_overrides(z)
    return ", ".join(f"{LABELS[k][0]} {'none' if v is None else f'{v:g}'}"
                     for k, v in own.items()) or "none"


def edit_zone_requirements(site) -> None:
    """The zones with their requirement profile and values, editable per zone: a new profile
    gives the zone its values, an edited value overrides the profile's; the library checks
    them (:func:`wifiplan.site.with_zone_requirements`) and says why it refuses one."""
    names = profile_names(site.requirement_profiles)
    rows = []
    for z in site.zones:
        r = z.requirements
        why = r.boundary_band_conflict()
        rows.append({"zone": z.name, "area [m²]": round(Polygon(z.polygon).area, 1),
                     "profile": z.profile,
                     **{col: getattr(r, key) for col, key in REQUIREMENT_COLUMNS.items()},
                     "own values": _overrides_text(site, z),
                     "terminals": ", ".join(f"{k} {v}" for k, v in z.terminals.items())
                     or "none", "note": why or ""})
    df = pd.DataFrame(rows)
    st.caption("Zone requirements: each zone names a requirement profile (" + "; ".join(
        f"{n}: {profile_of(n, site.requirement_profiles).description}" for n in names)
        + ") and may override its values. The planner, the plan's metrics, "
        "the phase reports and the survey check judge each zone by them; an empty secondary, "
        "data rate or channel overlap asks nothing.")
    edited = st.data_editor(
        df, hide_index=True, width="stretch", key=f"zone_requirements_{state.site_key()}",
        disabled=["zone", "area [m²]", "own values", "terminals", "note"],
        column_config={
            "profile": st.column_config.SelectboxColumn(
                options=names, required=True,
                help="a new profile gives the zone the profile's values"),
            "boundary band": st.column_config.CheckboxColumn(
                help="judge this zone's cell boundaries against the seed's -70..-65 dBm band"),
            "max APs per channel": st.column_config.NumberColumn(
                min_value=1, step=1, help="channel overlap: at most this many APs on one "
                "channel heard above the overlap level (empty: no requirement)")})
    changes = {}
    for (_, a), (_, b) in zip(df.iterrows(), edited.iterrows()):
        diff = {key: b[col] for col, key in REQUIREMENT_COLUMNS.items()
                if not _same(a[col], b[col])}
        if b["profile"] != a["profile"]:
            diff["profile"] = b["profile"]
        if diff:
            changes[a["zone"]] = diff
    if changes:
        try:
            state.update_site(with_zone_requirements(site, changes))
        except InputError as exc:
            st.error(str(exc))
        else:
            st.rerun()


def show_site() -> None:
    site = state.site()
    if site is None:
        return
    plan = state.plan()
    st.divider()
    st.subheader(site.name)
    st.caption(f"{st.session_state.get(state.SITE_LABEL, '')} · regulatory domain "
               f"{site.regulatory_domain}: channels "
               f"{', '.join(str(c) for c in site.allowed_channels())}")
    cols = st.columns(6)
    minx, miny, maxx, maxy = site.bounds
    cols[0].metric("Floor area", f"{site.area_m2:,.0f} m²")
    cols[1].metric("Size", f"{maxx - minx:.0f} × {maxy - miny:.0f} m")
    cols[2].metric("Walls", len(site.walls))
    cols[3].metric("Obstacles", len(site.obstacles))
    cols[4].metric("Zones", len(site.zones))
    cols[5].metric("Terminals", site.terminal_count)
    st.caption(building_caption(site, state.model()))
    model = state.model()
    if model is not None and model.is_hall and st.toggle(
            "Show the rooms of the hall model", key="show_rooms",
            help="walls and rack rows divide the hall into rooms with a diffuse field each; "
                 "they exchange power through doorways, walls and over racks"):
        st.plotly_chart(figures.rooms_figure(site, model,
                                             background=st.session_state.get(state.BACKGROUND)),
                        width="stretch", key="rooms_figure")
        st.dataframe(room_table(model.room).rename(columns={
            "floor_m2": "floor [m²]", "volume_m3": "volume [m³]",
            "absorption_m2": "absorption area [m²]", "coupling_m2": "coupling to others [m²]",
            "diffuse_gain_db": "diffuse gain [dB]"}), hide_index=True, width="stretch",
            key="rooms_table")
    editor.toolbar(site, plan)
    if editor.tool() == "drag":
        editor.drag_canvas(site, plan.aps if plan else [])
    else:
        editor.chart(figures.site_figure(site, plan.aps if plan else None,
                                         background=st.session_state.get(state.BACKGROUND),
                                         selected=state.selection(), drawing=editor.drawing(),
                                         closed=editor.drawing_closed(), click_grid=True),
                     "site_figure")
    if site.zones:
        edit_zone_requirements(site)
    st.download_button("Download site YAML", site_to_yaml(site),
                       file_name=f"{state.file_stem(site)}.yaml",
                       mime="application/x-yaml", key="download_site", on_click="ignore")


st.title("Site")
source = st.segmented_control("Start from", SOURCES, default=SOURCES[0], key="site_source")
{"Sample site": load_sample, "Site YAML": upload_yaml, "DXF drawing": import_dxf,
 "Ekahau project": import_esx, "Floor image": import_image}.get(source or SOURCES[0])()
if source == "Ekahau project":
    show_esx_report()
show_site()
