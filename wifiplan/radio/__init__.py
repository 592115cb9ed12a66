"""The radio layer: from transmitters and a floor's geometry to received power.

Path-loss laws (:mod:`~wifiplan.radio.pathloss`), the penetration rule and its kernels
(:mod:`~wifiplan.radio.geometry`, :mod:`~wifiplan.radio.kernel`), the rooms of a hall and the
enclosed-hall model (:mod:`~wifiplan.radio.rooms`, :mod:`~wifiplan.radio.hall`), a site's
propagation model (:mod:`~wifiplan.radio.propagation`), the radio map and its figures
(:mod:`~wifiplan.radio.radiomap`, :mod:`~wifiplan.radio.plotting`). Nothing here imports the
site model: a site, a plan's AP or a zone is read through the attributes it has
(docs/architecture.md).
"""
