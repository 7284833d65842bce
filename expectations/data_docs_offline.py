"""Make the Great Expectations Data Docs readable offline.

GX writes pages that take Bootstrap, jQuery, bootstrap-table, Font Awesome and Vega from CDNs;
without the network the index is blank (its table is drawn by JavaScript) and the pages lose
their layout and icons. GX 1.x ships none of those files, so each page's CDN links are replaced
by one small stylesheet of ours (written into the site's static/ folder), and the index gets a
plain HTML list of the validation pages, newest first.
"""

from __future__ import annotations

import html
import os
import re
from pathlib import Path

STYLESHEET = "static/styles/provpanel_offline.css"
OFFLINE_MARKER = "<!-- provpanel: offline -->"
INDEX_SECTION_ID = "provpanel-validation-pages"

_REMOTE_LINK = re.compile(r"<link\b[^>]*href=\"https?://[^\"]*\"[^>]*>\s*", re.IGNORECASE)
_REMOTE_SCRIPT = re.compile(r"<script\b[^>]*src=\"https?://[^\"]*\"[^>]*>\s*</script>\s*", re.IGNORECASE)

CSS = """/* provpanel: Data Docs without the CDN (Bootstrap's essentials for these pages) */
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 14px;
       color: #212529; margin: 0; padding: 1rem 2rem; background: #fff; }
a { color: #0056b3; }
.container-fluid, .row { display: block; }
.col-md-2, .col-md-3, .col-lg-2, .col-xl-2 { display: block; }
.sticky, .sticky-top { position: static; }
nav ol.breadcrumb { list-style: none; padding: .5rem 1rem; background: #e9ecef; display: flex; gap: .5rem; }
.card { border: 1px solid #dee2e6; border-radius: 4px; margin: 0 0 1rem; }
.card-header { background: #f7f7f9; padding: .5rem 1rem; border-bottom: 1px solid #dee2e6; font-weight: 600; }
.card-body { padding: .5rem 1rem; }
table, .table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; background: #fff; }
table td, table th { border: 1px solid #dee2e6; padding: .3rem .5rem; vertical-align: top; text-align: left; }
table th, thead td { background: #f1f3f5; font-weight: 600; }
.table-sm td, .table-sm th { padding: .2rem .4rem; }
.alert { padding: .5rem 1rem; border: 1px solid #ced4da; border-radius: 4px; background: #f8f9fa; }
.text-success { color: #1e7e34; } .text-danger { color: #bd2130; } .text-warning { color: #a36f00; }
.badge { display: inline-block; padding: .1rem .4rem; border-radius: 3px; background: #e9ecef; }
.fa-check-circle::before, .fa-check::before { content: "\\2714"; }
.fa-times::before, .fa-times-circle::before, .fa-exclamation-triangle::before { content: "\\2718"; }
.fas, .fa { font-style: normal; font-weight: 700; }
img[src*="gx_logo"], .ge-footer, #ge-newsletter, .d-none { display: none; }
#provpanel-validation-pages { margin: 1rem 0; }
"""


def _relative_stylesheet(page: Path, site: Path) -> str:
    return Path(os.path.relpath(site / STYLESHEET, page.parent)).as_posix()


def _validation_pages(site: Path) -> list[Path]:
    pages = list((site / "validations").rglob("*.html")) if (site / "validations").exists() else []
    return sorted(pages, key=lambda p: p.stat().st_mtime, reverse=True)


def _index_section(site: Path) -> str:
    rows = []
    for page in _validation_pages(site):
        parts = page.relative_to(site / "validations").parts  # suite / batch / run time / file
        suite, run_time = parts[0], (parts[-2] if len(parts) >= 3 else "")
        failed = "FAILED" if 'class="fas fa-times' in page.read_text(encoding="utf-8", errors="replace")[:200000] \
            else "passed"
        href = html.escape(page.relative_to(site).as_posix())
        rows.append(f"<tr><td><a href=\"{href}\">{html.escape(suite)}</a></td><td>{html.escape(run_time)}</td>"
                    f"<td>{failed}</td></tr>")
    return (f"<section id=\"{INDEX_SECTION_ID}\"><h2>Validation results</h2><table class=\"table\">"
            "<thead><tr><th>Suite</th><th>Run</th><th>Result</th></tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></section>")


def make_offline(site: Path) -> None:
    """Rewrite every page of the Data Docs site in `site` to use no network."""
    site = Path(site)
    stylesheet = site / STYLESHEET
    stylesheet.parent.mkdir(parents=True, exist_ok=True)
    stylesheet.write_text(CSS, encoding="utf-8")
    for page in site.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        is_index = page == site / "index.html"
        if OFFLINE_MARKER in text and not is_index:
            continue  # done by an earlier run; GX rewrites only the pages it renders anew
        text = _REMOTE_SCRIPT.sub("", _REMOTE_LINK.sub("", text))
        if OFFLINE_MARKER not in text:
            link = f'<link rel="stylesheet" href="{_relative_stylesheet(page, site)}">'
            text = text.replace("</head>", f"{OFFLINE_MARKER}\n{link}\n</head>", 1)
        if is_index:
            text = re.sub(rf"<section id=\"{INDEX_SECTION_ID}\">.*?</section>", "", text, flags=re.DOTALL)
            text = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + _index_section(site), text, count=1)
        page.write_text(text, encoding="utf-8")


def newest_validation_page(site: Path, suite: str) -> Path | None:
    """The page of the latest validation of `suite` (the one just run)."""
    pages = [p for p in _validation_pages(Path(site)) if p.relative_to(Path(site) / "validations").parts[0] == suite]
    return pages[0] if pages else None
