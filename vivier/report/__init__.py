"""The weekly CRM report: figures from the CRM database, charts, and the HTML + CSV files."""

from vivier.report.figures import ReportFigures, collect_figures
from vivier.report.render import ReportFiles, write_report

__all__ = ["ReportFigures", "ReportFiles", "collect_figures", "write_report"]
