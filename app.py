"""wifiplan for network designers: ``streamlit run app.py``.

Site -> Plan -> Survey -> Report, each page a thin face over the wifiplan library.
"""
import streamlit as st

st.set_page_config(page_title="wifiplan", page_icon=":material/wifi:", layout="wide")

PAGES = [
    st.Page("wifiplan/ui/pages/site.py", title="Site", icon=":material/map:", default=True),
    st.Page("wifiplan/ui/pages/plan.py", title="Plan", icon=":material/router:"),
    st.Page("wifiplan/ui/pages/survey.py", title="Survey", icon=":material/network_check:"),
    st.Page("wifiplan/ui/pages/report.py", title="Report", icon=":material/description:"),
]

page = st.navigation(PAGES)
page.run()

with st.sidebar:          # after the page, so that it shows what the page just loaded
    from wifiplan.ui import state
    site = state.site()
    if site is not None:
        plan = state.plan()
        st.markdown(f"**{site.name}**  \n{len(plan.aps) if plan else 0} APs · "
                    f"domain {site.regulatory_domain}  \n"
                    f"{st.session_state.get(state.MODEL_LABEL, '')}")
    else:
        st.caption("No site loaded.")
