"""The signed-in dashboard under ``/app``: pages that read every domain's services.

It sits above the domains (below the app), so its pages may call any domain's service; the
frame they are drawn in (templates, charts, tables, downloads, signed cookies) is
:mod:`cxloop.web`, which imports no domain.
"""
