"""Reports for many sites: every phase of every site in a folder, and an index page.

Each site is one job: load the site, take the plan beside it (``NAME.plan.yaml``) or let
the planner plan it, compute the full plan's radio map once, and write the report of each
phase into ``OUT/NAME/phaseN/``. Jobs run in a local process pool, or on an existing Dask
cluster (``dask_address``; the cluster's workers must see the same file system). A site that
fails is listed in the index with its error; the others go on.

Every site runs in a worker process of its own budget: a wall-clock time (``site_timeout_s``,
enforced by the process that started the worker, which kills it) and an address space
(``site_memory_mb``, ``RLIMIT_AS`` set in the worker on Linux). A site over its budget is
listed as failed ("over its time budget (S s)", "over its memory budget (N MB)") and its
worker replaced; the workers end with the batch however it ends (Ctrl-C, SIGTERM, SIGKILL).
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
from ..fileio import RESERVED_STEMS, remove_stale_temporaries, write_atomic
from ..inputs import load_inputs
from ..plan import save_plan
from ..planning import plan_site
from ..radio.radiomap import compute_radiomap
from . import make_report, template


#: Default budgets of one site: the bundled samples take at most about 70 s and 2 GB of
#: address space (0.35 GB resident) for all four phases at a 1 m grid.
SITE_TIMEOUT_S = 1800.0
SITE_MEMORY_MB = 8192


@dataclass(frozen=True)
class Budget:
    """What one site may take: wall-clock seconds and MB of address space (None: no limit)."""
    timeout_s: float | None = SITE_TIMEOUT_S
    memory_mb: float | None = SITE_MEMORY_MB

    def time_text(self) -> str:
        return f"over its time budget ({self.timeout_s:g} s)"

    def memory_text(self) -> str:
        return (f"over its memory budget ({self.memory_mb:g} MB)" if self.memory_mb
                else "out of memory")


def budget_of(timeout_s=SITE_TIMEOUT_S, memory_mb=SITE_MEMORY_MB) -> Budget:
    """A checked :class:`Budget`; 0 or None means no limit."""
    vals = []
    for key, v, unit in (("site_timeout", timeout_s, "s"), ("site_memory", memory_mb, "MB")):
        if v is None:
            vals.append(None)
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            raise InputError(f"{key}: expected a number of {unit} (0: no limit), got {v!r}") \
                from None
        if not (f >= 0 and f < 1e9):
            raise InputError(f"{key}: expected a number of {unit} >= 0 (0: no limit), "
                             f"got {v!r}")
        vals.append(f or None)
    if vals[1] is not None and vals[1] < 64:
        raise InputError(f"site_memory: {vals[1]:g} MB is too little for any site; give at "
                         "least 64 MB (0: no limit)")
    return Budget(*vals)


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
RESERVED_NAMES = {"index", *RESERVED_STEMS}
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


def _out_of_memory(exc: BaseException) -> bool:
    """A failed allocation: Python's MemoryError, or a C++ std::bad_alloc passed on as an
    error by a library (GEOS)."""
    return isinstance(exc, MemoryError) or "bad_alloc" in str(exc)


def run_site_job(job: SiteJob, budget: Budget | None = None) -> dict:
    """Write every phase's report of one site; never raises (errors are returned; a failed
    allocation is reported as over the memory budget)."""
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
                if _out_of_memory(exc):
                    raise
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
        res.error = (budget or Budget(None, None)).memory_text() if _out_of_memory(exc) \
            else _describe(exc)
    res.seconds = time.perf_counter() - t0
    return res.to_dict()


def _describe(exc: Exception) -> str:
    if isinstance(exc, InputError):
        return str(exc)
    tb = traceback.extract_tb(exc.__traceback__)
    where = f" ({Path(tb[-1].filename).name}:{tb[-1].lineno})" if tb else ""
    return f"{type(exc).__name__}: {exc}{where}"


def _results_local(jobs, workers: int, progress, budget: Budget):
    """Run the jobs in ``workers`` worker processes, each site within ``budget``; yields one
    result per job as they finish. The workers are ended when this generator ends, however
    it ends (all done, an exception, Ctrl-C)."""
    from multiprocessing.connection import wait
    pending = list(reversed(jobs))
    slots: list[_Worker] = []
    try:
        while pending or any(w.job is not None for w in slots):
            slots = [w for w in slots if w.alive]
            n_busy = sum(1 for w in slots if w.job is not None)
            while len(slots) < min(workers, n_busy + len(pending)):
                slots.append(_Worker())
            for w in slots:
                if w.job is None and pending:
                    job = pending.pop()
                    try:
                        w.submit(job, budget)
                    except OSError:             # the idle worker was killed from outside
                        w.kill()
                        pending.append(job)
            busy = [w for w in slots if w.job is not None]
            now = time.monotonic()
            left = [w.t0 + budget.timeout_s - now for w in busy
                    if budget.timeout_s and w.t0 is not None]
            ready = wait([w.conn for w in busy],
                         timeout=max(0.0, min(left + [1.0])))
            for w in busy:
                if w.conn in ready:
                    res = w.receive()
                    if res is not None:
                        yield res
                        progress()
                elif budget.timeout_s and w.t0 is not None \
                        and time.monotonic() - w.t0 > budget.timeout_s:
                    job = w.job
                    w.kill()
                    clean_job_output(job)
                    yield SiteResult(file=Path(job.site_path).name, error=budget.time_text(),
                                     seconds=budget.timeout_s).to_dict()
                    progress()
    finally:
        for w in slots:
            job = w.job
            w.kill()
            if job is not None:
                clean_job_output(job)


def clean_job_output(job: SiteJob) -> None:
    """Remove what a killed worker left half-written in a site's report folder."""
    d = Path(job.outdir)
    if d.is_dir():
        remove_stale_temporaries(d)
        for sub in d.iterdir():
            if sub.is_dir() and not sub.is_symlink():
                remove_stale_temporaries(sub)


class _Worker:
    """One worker process (spawned, so nothing of the batch's state is shared) that runs
    sites one after the other; ``job`` is the site it runs, ``t0`` when it began it."""

    def __init__(self):
        import multiprocessing as mp
        ctx = mp.get_context("spawn")
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=worker_main, args=(child, os.getpid()),
                                name="wifiplan-batch-worker")
        # the worker ignores Ctrl-C from its first instruction on (the batch ends it): the
        # disposition SIG_IGN survives the exec of the spawned interpreter
        main = threading.current_thread() is threading.main_thread()
        old = signal.signal(signal.SIGINT, signal.SIG_IGN) if main else None
        try:
            self.proc.start()
        finally:
            if main:
                signal.signal(signal.SIGINT, old)
        child.close()
        self.job: SiteJob | None = None
        self.t0: float | None = None
        self.alive = True

    def submit(self, job: SiteJob, budget: Budget) -> None:
        self.job, self.t0, self.budget = job, None, budget
        self.conn.send((job, budget))

    def receive(self) -> dict | None:
        """The next message: None when the worker only began its job (the clock starts),
        the result when it is done; a worker that died gives a failed result."""
        job = self.job
        try:
            kind, payload = self.conn.recv()
        except (EOFError, OSError):
            self.proc.join(5)
            code = self.proc.exitcode
            self.kill()
            clean_job_output(job)
            how = (f"signal {-code}" if code is not None and code < 0 else f"exit code {code}")
            # with the address space capped, a process that ends in the middle of a site is
            # a library that gave up on a failed allocation (BLAS, a C++ abort)
            why = (f"{self.budget.memory_text()}: its process ended ({how})"
                   if self.t0 is not None and self.budget.memory_mb
                   else f"worker failed: its process ended ({how})")
            return SiteResult(file=Path(job.site_path).name, error=why).to_dict()
        if kind == "started":
            self.t0 = time.monotonic()
            return None
        self.job = self.t0 = None
        if kind == "done-retire":       # a failed allocation: a fresh process for the next
            self.kill()
        return payload

    def kill(self) -> None:
        if self.proc.is_alive():
            self.proc.kill()
        self.proc.join()
        self.conn.close()
        self.alive = False
        self.job = None


def worker_main(conn, parent_pid: int) -> None:
    """The loop of a worker process: receive (job, budget), report 'started', run the site
    within the memory budget, send the result; ends when the batch does."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent_pid)
    import numpy as np
    np.ones((256, 256)) @ np.ones((256, 256))  # the BLAS threads take their buffers now: a
    #                                           later failure there ends the process
    while True:
        try:
            job, budget = conn.recv()
        except (EOFError, OSError):
            return
        conn.send(("started", None))
        limit_memory(budget.memory_mb)
        res = run_site_job(job, budget)
        limit_memory(None)
        retire = res["error"] == budget.memory_text()
        conn.send(("done-retire" if retire else "done", res))
        if retire:
            return


def limit_memory(memory_mb: float | None) -> None:
    """Cap this process's address space at ``memory_mb`` MB (``RLIMIT_AS``, Linux), or lift
    the cap (None)."""
    if not sys.platform.startswith("linux"):
        return
    import resource
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    soft = hard if memory_mb is None else int(memory_mb * 1024 * 1024)
    if hard != resource.RLIM_INFINITY and soft > hard:
        soft = hard
    resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def run_site_budgeted(job: SiteJob, budget: Budget) -> dict:
    """One site in a worker process of its own within ``budget`` (what a Dask task runs);
    in a process that may not start processes (a daemonic Dask worker) the site runs in
    place, within the cluster's own limits."""
    import multiprocessing as mp
    if mp.current_process().daemon:
        return run_site_job(job, budget)
    return next(_results_local([job], 1, lambda: None, budget))


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


def _results_dask(jobs, address: str, progress, budget: Budget):
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise InputError("--dask needs the optional dependency: pip install 'wifiplan[dask]'") \
            from None
    client = Client(address) if isinstance(address, str) else address
    try:
        futs = client.map(run_site_budgeted, jobs, budget=budget, pure=False)
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
              progress: bool | None = None, site_timeout_s=SITE_TIMEOUT_S,
              site_memory_mb=SITE_MEMORY_MB) -> list[dict]:
    """Reports for every site of ``folder`` into ``outdir``, plus ``index.html`` and
    ``index.json``. Returns one row per site (sorted by file name). Each site runs within
    ``site_timeout_s`` seconds and ``site_memory_mb`` MB (0 or None: no limit)."""
    budget = budget_of(site_timeout_s, site_memory_mb)
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
        it = _results_dask(jobs, dask_address, bar.update, budget) \
            if dask_address is not None else \
            _results_local(jobs, max(int(workers), 1), bar.update, budget)
        try:
            rows = list(it)
        finally:
            it.close()
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
