"""Reports for many sites: every phase of every site in a folder, and an index page.

Each site is one job: load the site, take the plan beside it (``NAME.plan.yaml``) or let
the planner plan it, compute the full plan's radio map once, and write the report of each
phase into ``OUT/NAME/phaseN/``. Jobs run in a local process pool, or on an existing Dask
cluster (``dask_address``; the cluster's workers must see the same file system). A site that
fails is listed in the index with its error; the others go on.
"""
from __future__ import annotations

import ctypes
import json
import os
import re
import signal
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..fileio import remove_stale_temporaries, write_atomic
from ..inputs import load_inputs
from ..plan import save_plan
from ..planning import plan_site
from ..radio.radiomap import compute_radiomap
from . import make_report, template


@dataclass
class SiteJob:
    site_path: str
    plan_path: str | None
    outdir: str
    phases: tuple[int, ...] = (1, 2, 3, 4)
    resolution_m: float = 1.0
    model_path: str | None = None


@dataclass
class SiteResult:
    file: str
    site: str = ""
    plan_source: str = ""
    ap_count: int | None = None
    coverage: float | None = None
    phases: dict = field(default_factory=dict)   # "N" -> {passed, html, pdf, json, ...}
    error: str | None = None
    seconds: float = 0.0

    @property
    def coverage_text(self) -> str:
        return "-" if self.coverage is None else f"{100 * self.coverage:.1f} %"

    def to_dict(self) -> dict:
        return {"file": self.file, "site": self.site, "plan_source": self.plan_source,
                "ap_count": self.ap_count, "coverage": self.coverage, "phases": self.phases,
                "error": self.error, "seconds": round(self.seconds, 2)}


def plan_path_for(site_path: Path) -> Path:
    return site_path.with_name(site_path.name[:-len(".yaml")] + ".plan.yaml")


def find_sites(folder) -> list[Path]:
    """The site files of a folder: ``*.yaml`` except plans (``*.plan.yaml``) and model files
    (``*.model.yaml``), sorted by name."""
    d = Path(folder)
    if not d.is_dir():
        raise InputError("expected a folder of site files", source=str(folder))
    return sorted(p for p in d.glob("*.yaml")
                  if not p.name.endswith((".plan.yaml", ".model.yaml")))


#: Names a site's report folder may not take: the index files beside them, and the
#: names Windows reserves (the folder may be copied there).
RESERVED_NAMES = {"index", "con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)),
                  *(f"lpt{i}" for i in range(1, 10))}
MAX_FOLDER_NAME = 80


def report_folder_name(stem: str, taken: set[str]) -> str:
    """A folder name for a site's reports inside the batch output, from its file's stem:
    only letters, digits, ``.``, ``_`` and ``-``, no leading dot (so never ``..``), at most
    80 characters, never a reserved name, and distinct from ``taken`` (case-insensitively;
    a clash gets ``-2``, ``-3``...). ``taken`` is updated."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", stem).lstrip(".")[:MAX_FOLDER_NAME] or "site"
    if name.lower().split(".")[0] in RESERVED_NAMES:
        name = f"site-{name}"
    base, k = name, 2
    while name.lower() in taken:
        name = f"{base}-{k}"
        k += 1
    taken.add(name.lower())
    return name


def make_jobs(folder, outdir, phases=(1, 2, 3, 4), resolution_m: float = 1.0,
              model_path=None) -> list[SiteJob]:
    jobs = []
    taken: set[str] = set()
    for p in find_sites(folder):
        plan = plan_path_for(p)
        name = report_folder_name(p.name[:-len(".yaml")], taken)
        jobs.append(SiteJob(str(p), str(plan) if plan.is_file() else None,
                            str(Path(outdir) / name), tuple(phases), resolution_m, model_path))
    return jobs


def run_site_job(job: SiteJob) -> dict:
    """Write every phase's report of one site; never raises (errors are returned)."""
    t0 = time.perf_counter()
    res = SiteResult(file=Path(job.site_path).name)
    try:
        inp = load_inputs(job.site_path, job.plan_path, job.model_path)
        site, plan, model = inp.site, inp.plan, inp.model
        res.site = site.name
        if job.plan_path:
            res.plan_source = Path(job.plan_path).name
            full_plan = plan
        else:
            full_plan = plan_site(site, model=model)
            Path(job.outdir).mkdir(parents=True, exist_ok=True)
            save_plan(full_plan, Path(job.outdir) / "plan.yaml")
            res.plan_source = "planned"
        res.ap_count = len(full_plan.aps)
        full_rm = compute_radiomap(site, full_plan.aps, resolution_m=job.resolution_m,
                                   model=model)
        for ph in job.phases:
            out = Path(job.outdir) / f"phase{ph}"
            try:
                a = make_report(job.site_path, ph, out, plan_path=job.plan_path,
                                model_path=job.model_path, resolution_m=job.resolution_m,
                                site=site, plan=plan, full_rm=full_rm, full_plan=full_plan)
            except Exception as exc:          # one phase failing does not stop the others
                res.phases[str(ph)] = {"error": _describe(exc)}
                res.error = res.error or f"phase {ph}: {_describe(exc)}"
                continue
            rel = f"{Path(job.outdir).name}/phase{ph}"
            res.phases[str(ph)] = {"passed": a.passed, "ap_count": len(a.plan.aps),
                                   "primary_coverage": a.metrics["primary_coverage"],
                                   "failed": [c.id for c in a.criteria if c.passed is False],
                                   "impossible": [c.id for c in a.criteria
                                                  if c.passed is False and c.impossible],
                                   "html": f"{rel}/report.html", "pdf": f"{rel}/report.pdf",
                                   "json": f"{rel}/report.json"}
            if ph >= 3:
                res.coverage = a.metrics["primary_coverage"]
    except Exception as exc:
        res.error = _describe(exc)
    res.seconds = time.perf_counter() - t0
    return res.to_dict()


def _describe(exc: Exception) -> str:
    if isinstance(exc, InputError):
        return str(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _results_local(jobs, workers: int, progress):
    if workers <= 1 or len(jobs) <= 1:
        for j in jobs:
            yield run_site_job(j)
            progress()
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed
    ctx = mp.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx,
                             initializer=die_with_parent, initargs=(os.getpid(),)) as ex:
        futs = {ex.submit(run_site_job, j): j for j in jobs}
        for f in as_completed(futs):
            try:
                yield f.result()
            except Exception as exc:          # the worker process itself died
                yield SiteResult(file=Path(futs[f].site_path).name,
                                 error=f"worker failed: {_describe(exc)}").to_dict()
            progress()


def die_with_parent(parent_pid: int) -> None:
    """Make a worker process end when the batch that started it ends, however it ends
    (SIGKILL included): the kernel's parent-death signal on Linux, and everywhere a watcher
    thread that exits when the parent is gone."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PDEATHSIG
        except (OSError, AttributeError):
            pass

    def watch():
        while True:
            if os.getppid() != parent_pid:
                os._exit(1)
            time.sleep(1.0)
    threading.Thread(target=watch, daemon=True, name="die-with-parent").start()
    if os.getppid() != parent_pid:        # the parent died before the signal was set
        os._exit(1)


def _results_dask(jobs, address: str, progress):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--dask needs the optional dependency: pip install 'wifiplan[dask]'") \
            from None
    client = Client(address) if isinstance(address, str) else address
    try:
        futs = client.map(run_site_job, jobs, pure=False)
        job_of = {f.key: j for f, j in zip(futs, jobs)}
        for f in as_completed(futs):
            try:
                yield f.result()
            except Exception as exc:          # the task was lost or its worker died
                yield SiteResult(file=Path(job_of[f.key].site_path).name,
                                 error=f"worker failed: {_describe(exc)}").to_dict()
            progress()
    finally:
        if isinstance(address, str):
            client.close()


def run_batch(folder, outdir, *, workers: int = 1, phases=(1, 2, 3, 4),
              resolution_m: float = 1.0, dask_address=None, model_path=None,
              progress: bool | None = None) -> list[dict]:
    """Reports for every site of ``folder`` into ``outdir``, plus ``index.html`` and
    ``index.json``. Returns one row per site (sorted by file name)."""
    for p in phases:
        if p not in (1, 2, 3, 4):
            raise InputError(f"phases must be among 1, 2, 3, 4, got {p!r}")
    jobs = make_jobs(folder, outdir, phases, resolution_m, model_path)
    if not jobs:
        raise InputError("no site files (*.yaml) in the folder", source=str(folder))
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    from tqdm import tqdm
    show = sys.stderr.isatty() if progress is None else progress
    bar = tqdm(total=len(jobs), desc="sites", unit="site", disable=not show, file=sys.stderr)
    t0 = time.perf_counter()
    try:
        it = _results_dask(jobs, dask_address, bar.update) if dask_address is not None else \
            _results_local(jobs, max(int(workers), 1), bar.update)
        rows = list(it)
    finally:
        bar.close()
    total = time.perf_counter() - t0
    rows.sort(key=lambda r: r["file"])
    write_index(out, rows, phases, total)
    return rows


def write_index(out: Path, rows: list[dict], phases, total_s: float) -> None:
    remove_stale_temporaries(out)
    n_err = sum(1 for r in rows if r["error"])
    n_fail = sum(1 for r in rows for p in r["phases"].values() if p.get("passed") is False)
    summary = (f"{len(rows)} sites, {len(rows) - n_err} without error, {n_err} with errors; "
               f"{n_fail} phase reports failing a criterion.")

    class Row(dict):
        __getattr__ = dict.get

    objs = []
    for r in rows:
        o = Row(r)
        o["coverage_text"] = "-" if r["coverage"] is None else f"{100 * r['coverage']:.1f} %"
        o["phases"] = {k: Row(v) for k, v in r["phases"].items() if "error" not in v}
        objs.append(o)
    html = template("index.html.j2").render(title="Rollout reports", summary=summary,
                                             rows=objs, phases=list(phases))
    write_atomic(out / "index.html", html)
    write_atomic(out / "index.json", json.dumps(
        {"sites": rows, "phases": list(phases), "summary": summary,
         "total_seconds": round(total_s, 2)}, indent=1, sort_keys=True) + "\n")
