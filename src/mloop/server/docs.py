"""The ``/docs`` page of mloop's servers, working offline: Swagger UI's script and style are
served from an installed package (``fastapi-offline`` ships Swagger UI 5), not a CDN
(docs/decisions/0121-serving-docs-metrics-request-ids.md).

>>> app = FastAPI(docs_url=None, redoc_url=None)
>>> add_offline_docs(app, "mloop model server")
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

ASSETS = "/docs/assets"


def assets_dir() -> Path:
    """The folder of Swagger UI's files (``swagger-ui-bundle.js``, ``swagger-ui.css``...)."""
    return Path(str(resources.files("fastapi_offline") / "static"))


def add_offline_docs(app: FastAPI, title: str, parameters: dict[str, Any] | None = None) -> None:
    """Serve ``GET /docs`` (Swagger UI over the app's OpenAPI) and its files under
    ``/docs/assets``; the app is created with ``docs_url=None`` so FastAPI's CDN page is off."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from starlette.staticfiles import StaticFiles

    app.mount(ASSETS, StaticFiles(directory=assets_dir()), name="docs-assets")

    async def docs(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{title}: API",
            swagger_js_url=f"{root}{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS}/favicon.png",
            swagger_ui_parameters=parameters,
        )

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


_TYPICAL: dict[str, Any] = {
    "double": 1.5,
    "float": 1.5,
    "integer": 1,
    "long": 1,
    "boolean": True,
    "string": "a",
    "category": "a",
    "datetime": "2026-01-31T12:00:00",
    "binary": "",
}


def request_example(
    names: list[tuple[str, str]], input_example: dict[str, Any] | None = None
) -> dict[str, Any] | None:
    """A prediction body for ``names`` (``(field, type)`` of a signature): the first row of
    the model's own input example where it covers those fields, else a typical value per
    type; None without a signature."""
    if not names:
        return None
    row: dict[str, Any] = {name: _TYPICAL.get(kind, "a") for name, kind in names}
    if input_example and input_example.get("data"):
        first = dict(zip(input_example.get("columns", []), input_example["data"][0], strict=False))
        row.update({name: first[name] for name, _ in names if name in first})
    return {"records": [row]}
