"""The Streamlit UI for network designers (``streamlit run app.py``).

``app.py`` at the top level builds the navigation; the pages live in ``pages/`` (Site, Plan,
Survey, Report), the session state and the radio-map cache in :mod:`.state`, the plotly
figures in :mod:`.figures`. The UI computes nothing itself: every number comes from the
library.
"""
