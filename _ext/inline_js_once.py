"""Emit each inline ``<script>`` once per page (a backport of Sphinx PR #13402, Sphinx 8.2.2).

Extensions such as sphinx-thebe and sphinx-togglebutton add inline scripts with
``app.add_js_file(None, body=...)``. Sphinx 7.4, which Jupyter Book 1.x pins, stores such a
script once under the name ``None`` and again under ``''`` when the HTML builder starts, so
both copies reach every page and the browser reports ``Identifier 'THEBE_JS_URL' has already
been declared``. Naming every inline script ``''`` from the start lets the builder's own
duplicate check see that the two are one script.
"""

from typing import Any

from sphinx.application import Sphinx
from sphinx.builders.html import StandaloneHTMLBuilder

_add_js_file = StandaloneHTMLBuilder.add_js_file


def _add_js_file_once(self: StandaloneHTMLBuilder, filename: str | None, **kwargs: Any) -> None:
    _add_js_file(self, filename or "", **kwargs)


def setup(app: Sphinx) -> dict[str, Any]:
    """Register the fix; a no-op on Sphinx 8.2.2 and later, which carry it."""
    StandaloneHTMLBuilder.add_js_file = _add_js_file_once  # type: ignore[method-assign]
    return {"parallel_read_safe": True, "parallel_write_safe": True}
