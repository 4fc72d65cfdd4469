"""Per-file validation reports a data team can open: HTML, with the same figures as JSON beside it.

Reports name record numbers and checks, never values: they carry no personal data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from jinja2 import Environment, select_autoescape

_TEMPLATE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Validation report: {{ r.file }}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1f2933}
table{border-collapse:collapse;margin-top:1rem}th,td{border:1px solid #cbd2d9;padding:.35rem .6rem;text-align:left}
th{background:#f0f4f8}.ok{color:#1f7a1f}.ko{color:#b42318;font-weight:600}.num{text-align:right}
</style></head><body>
<h1>Validation report</h1>
<p><b>File</b>: {{ r.file }} &middot; <b>format</b>: {{ r.format or "unknown" }}</p>
{% if r.error %}
<p class="ko">The whole file was quarantined: {{ r.error }}</p>
{% else %}
<p>Records read: <b>{{ r.rows_read }}</b> &middot; valid: <b>{{ r.rows_valid }}</b> &middot;
failed a check: <b>{{ r.rows_failed }}</b> &middot; unreadable records: <b>{{ r.rows_unreadable }}</b></p>
<table><thead><tr><th>check</th><th>column</th><th>what it means</th><th>result</th>
<th class="num">rows failing</th><th>first record numbers</th></tr></thead><tbody>
{% for e in r.expectations %}
<tr><td>{{ e.check }}</td><td>{{ e.column }}</td><td>{{ e.reason }}</td>
<td class="{{ 'ok' if e.success else 'ko' }}">{{ "passed" if e.success else "failed" }}</td>
<td class="num">{{ e.unexpected_count }}</td><td>{{ e.sample_source_rows | join(", ") }}</td></tr>
{% endfor %}
</tbody></table>
{% endif %}
<p>Failing records are in the CRM table <code>quarantine</code> with every reason they failed.</p>
</body></html>
"""

_ENV = Environment(autoescape=select_autoescape(default=True, default_for_string=True))


def write_report(reports_dir: Path, content_sha256: str, file_name: str, report: dict[str, Any]) -> Path:
    """Write ``<reports_dir>/<sha>.html`` and ``.json``; returns the HTML path."""
    reports_dir.mkdir(parents=True, exist_ok=True)
    stem = reports_dir / content_sha256[:16]
    report = {"content_sha256": content_sha256, **report, "file": file_name}
    stem.with_suffix(".json").write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    html_path = stem.with_suffix(".html")
    html_path.write_text(_ENV.from_string(_TEMPLATE).render(r=report), encoding="utf-8")
    return html_path
