"""One way in: a site, its plan and its propagation model, from files or objects.

Every command of the CLI, the batch reports and the report builder load their inputs
through :func:`load_inputs`, so that a site file, a plan file and a model file are read,
checked against each other and noted the same way everywhere.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from .fileio import read_yaml
from .plan import Plan, check_plan_against_site, plan_from_dict
from .radio.propagation import PropagationModel, model_note
from .site import Site, site_from_dict


@dataclass
class Inputs:
    """A site, its plan (None when none was given) and the propagation model to predict
    with (:attr:`model`, built from ``model_source`` when first asked for: the site's own
    model costs a room segmentation that a caller without a model file may not need);
    ``site_lines`` and ``plan_lines``: the line of each key in the files (empty for
    objects), for messages that point into them."""
    site: Site
    plan: Plan | None
    model_source: Any = None
    site_lines: dict = field(default_factory=dict)
    plan_lines: dict = field(default_factory=dict)

    @cached_property
    def model(self) -> PropagationModel:
        """The model file's (or the given) model, else the site's own."""
        if isinstance(self.model_source, PropagationModel):
            return self.model_source
        return PropagationModel.for_site(self.site, self.model_source)

    @property
    def model_note(self) -> str | None:
        """A one-line note when the site names a path-loss law instead of the hall model."""
        return model_note(self.site)


def load_inputs(site, plan=None, model=None) -> Inputs:
    """Read and check the inputs of a command.

    ``site``: a site file or a :class:`~wifiplan.site.Site`; ``plan``: a plan file, a
    :class:`~wifiplan.plan.Plan` or None; a plan file is checked against the site (every
    AP inside the outline). ``model``: a model file (``wifiplan survey calibrate``), a
    :class:`~wifiplan.radio.propagation.PropagationModel` or None for the site's own."""
    site_lines: dict = {}
    if not isinstance(site, Site):
        data, site_lines = read_yaml(site)
        site = site_from_dict(data, source=str(site), lines=site_lines)
    plan_lines: dict = {}
    if plan is not None and not isinstance(plan, Plan):
        data, plan_lines = read_yaml(plan)
        plan = plan_from_dict(data, source=str(plan), lines=plan_lines)
        check_plan_against_site(plan, site, plan_lines)
    return Inputs(site=site, plan=plan, model_source=model, site_lines=site_lines,
                  plan_lines=plan_lines)
