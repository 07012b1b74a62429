"""One dashboard page being answered: its viewer, language and CSRF token, and
:meth:`Page.render`, which shows the page or, for ``?format=csv|svg|png``, downloads one
of its tables or charts."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from fastapi import Request
from fastapi.responses import Response

from cxloop.config import Settings
from cxloop.web.charts import Chart
from cxloop.web.exports import export
from cxloop.web.session import csrf_token
from cxloop.web.shell import Formatter, Viewer, app_context, dashboard_language, translator
from cxloop.web.tables import Table
from cxloop.web.templating import templates

NO_STORE = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


@dataclass
class Page:
    request: Request
    viewer: Viewer
    settings: Settings
    lang: str = field(init=False)
    t: Callable[[str], str] = field(init=False)
    fmt: Formatter = field(init=False)

    def __post_init__(self) -> None:
        self.lang = dashboard_language(self.request, self.viewer)
        self.t = translator(self.lang)
        self.fmt = Formatter(self.lang)

    @property
    def csrf(self) -> str:
        return csrf_token(self.settings, self.viewer.session_id)

    @property
    def wants_download(self) -> bool:
        return self.request.query_params.get("format", "html") != "html"

    def render(
        self,
        template: str,
        *,
        section: str,
        title: str,
        charts: Sequence[Chart] = (),
        tables: Sequence[Table] = (),
        status: int = 200,
        **values: object,
    ) -> Response:
        """The page as HTML, or the download its ``format`` parameter asks for."""
        params = self.request.query_params
        fmt = params.get("format", "html")
        if fmt != "html":
            return export(
                section,
                fmt,
                charts,
                tables,
                chart_id=params.get("chart"),
                table_id=params.get("table"),
            )
        context = app_context(
            self.request,
            self.viewer,
            section=section,
            title=title,
            csrf=self.csrf,
            lang=self.lang,
            charts={c.id: c for c in charts},
            tables={t.id: t for t in tables},
            **values,
        )
        return templates.TemplateResponse(
            self.request, template, context, status_code=status, headers=NO_STORE
        )
