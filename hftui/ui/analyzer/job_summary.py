"""The summary of the Analyzer's highlighted job in words: progress or outcome, error, warnings, recommendation."""

from __future__ import annotations

from textual.widgets import Static

from hftui.analyze.jobs import AnalyzerJob
from hftui.humanize import human_size
from hftui.ui.analyzer.cells import duration, rate
from hftui.ui.untrusted import plain


class JobSummaryPanel(Static):
    """The highlighted job in words: progress or outcome, the error, warnings, the recommendation."""

    shown_height = 0  # lines the panel's text took when last shown (0: laid out afresh)

    def show(self, job: AnalyzerJob | None) -> None:
        """Describe `job` (hidden when there is none)."""
        self.display = job is not None
        if job is None:
            self.shown_height = 0
            return
        lines = [self.headline(job)]
        if job.error:
            lines.append(f"✗ {job.error}")
        if job.remote_code_model and job.remote_code_model not in job.spec.allow_remote_code:
            lines.append(f"R asks to allow {job.remote_code_model}'s own code (trust_remote_code) and runs it again.")
        if job.benchmark_result is not None:
            lines.append(f"Recommendation: {job.benchmark_result.recommendation}")
            for row in job.bench_rows:
                if row.error:
                    lines.append(f"✗ {row.model}: {row.error}")
        if job.warnings:
            lines.append(
                f"⚠ {job.warnings[-1]}"
                + (f" (+{len(job.warnings) - 1} more warnings)" if len(job.warnings) > 1 else "")
            )
        content = plain("\n".join(lines))
        # A new layout only when the panel's height changes: the text changes several times a second while a job
        # runs, and each layout of the screen is a full render of it.
        height = len(content.wrap(max(1, self.content_region.width or self.app.size.width)))
        self.update(content, layout=height != self.shown_height)
        self.shown_height = height
        self.set_class(job.state == "failed", "-failed")
        self.set_class(job.state != "failed" and bool(job.warnings), "-warned")

    @staticmethod
    def headline(job: AnalyzerJob) -> str:
        """One line about the job: its size and speed while it runs, its outcome when it ended."""
        where = f" on {job.device}" if job.device else ""
        if job.state == "queued":
            return f"Job {job.number} queued: {len(job.spec.inputs)} inputs, batch {job.spec.batch_size}."
        if not job.ended:
            eta = f", {duration(job.eta_s)} left" if job.eta_s is not None else ""
            speed = f" at {rate(job.items_per_s)} items/s" if job.items_per_s else ""
            return f"Job {job.number} {job.state}: {job.done}/{job.total or '?'}{speed}{eta}{where} · c cancels"
        summary = job.result.summary if job.result is not None else None
        if summary is None:
            return f"Job {job.number} {job.state}{where}" + (" · e exports" if job.report is not None else "")
        labels = "; ".join(
            ", ".join(f"{label} {count}" for label, count in list(counts.items())[:4])
            for counts in summary.label_counts.values()
        )
        memory = f", peak {human_size(summary.peak_memory_bytes)}" if summary.peak_memory_bytes else ""
        return (
            f"Job {job.number} {job.state}: {summary.succeeded} analysed, {summary.failed} errors, "
            f"{rate(summary.items_per_s) or 0} items/s{where}{memory}"
            + (f" · {labels}" if labels else "")
            + " · e exports"
        )
