"""Reports, read from the store only: the terminal summary, the Markdown summary for a CI job, one
self-contained HTML file, and PNG plots of a store's history."""

from grounding.reporting._html import render as render_html
from grounding.reporting._markdown import markdown
from grounding.reporting._plots import history_png
from grounding.reporting._run_report import RunReport, gather
from grounding.reporting._terminal import headline, release_lines, summary_lines

__all__ = ["RunReport", "gather", "headline", "history_png", "markdown", "release_lines", "render_html",
           "summary_lines"]
