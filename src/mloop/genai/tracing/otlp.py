"""OTLP/HTTP trace ingest: ``POST /v1/traces`` in protobuf or JSON, stored like mloop's spans.

Applications instrumented with OpenTelemetry point their exporter at mloop
(``OTEL_EXPORTER_OTLP_ENDPOINT=http://mloop-host:port``) and their spans become
searchable with :func:`search_traces`. The route answers as the OTLP specification
asks: the encoding of the request, 400 for a body that does not decode, 415 for another
content type. Spans are queued for the write-behind writer, so a request returns at once.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from mloop.genai.tracing.rows import row_from_attributes
from mloop.genai.tracing.writer import writer

__all__ = ["create_tracing_router", "ingest"]

_PROTOBUF = "application/x-protobuf"
_JSON = "application/json"
_MAX_BODY = 32 * 1024 * 1024
_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def create_tracing_router(dependencies: list[Any] | None = None) -> Any:
    """A FastAPI router with ``POST /v1/traces`` (mount it on ``mloop server`` or the gateway).

    ``dependencies`` (e.g. the server's authentication) apply to the route.
    """
    from fastapi import APIRouter, Request, Response

    router = APIRouter(dependencies=dependencies or [])

    async def otlp_traces(request):
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type not in (_PROTOBUF, _JSON):
            return _error(
                415,
                f"content-type {content_type or '(none)'!r} is not supported; send OTLP as "
                f"{_PROTOBUF} or {_JSON}.",
                _JSON,
            )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > _MAX_BODY:
            return _error(413, f"the body is over the {_MAX_BODY} byte limit.", content_type)
        body = await request.body()
        try:
            body = _decompress(body, request.headers.get("content-encoding", ""))
            count = ingest(body, json_encoded=content_type == _JSON)
        except _BadRequest as exc:
            return _error(exc.status, str(exc), content_type)
        del count
        if content_type == _JSON:
            return Response(content=b"{}", media_type=_JSON)
        from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
            ExportTraceServiceResponse,
        )

        return Response(
            content=ExportTraceServiceResponse().SerializeToString(), media_type=_PROTOBUF
        )

    # FastAPI reads the annotations; set them as objects (fastapi is imported lazily here)
    otlp_traces.__annotations__ = {"request": Request, "return": Response}
    router.post("/v1/traces", tags=["tracing"], summary="OTLP/HTTP trace ingest")(otlp_traces)
    return router


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def ingest(body: bytes, json_encoded: bool = False) -> int:
    """Queue the spans of one OTLP ExportTraceServiceRequest; returns how many."""
    from google.protobuf import json_format
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        if json_encoded:
            document = json.loads(body or b"{}")
            if not isinstance(document, dict):
                raise _BadRequest("the OTLP JSON body must be an object with resourceSpans.")
            json_format.ParseDict(_ids_as_base64(document), request, ignore_unknown_fields=True)
        else:
            request.ParseFromString(body)
    except (ValueError, DecodeError, json_format.ParseError) as exc:
        kind = "JSON" if json_encoded else "protobuf"
        raise _BadRequest(f"the body is not an OTLP {kind} trace export request: {exc}") from None
    count = 0
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                if len(span.trace_id) != 16 or len(span.span_id) != 8:
                    raise _BadRequest(
                        f"span {span.name!r} has a trace id of {len(span.trace_id)} bytes and a "
                        f"span id of {len(span.span_id)}; OTLP needs 16 and 8."
                    )
                writer.put_span(
                    row_from_attributes(
                        trace_id=int.from_bytes(span.trace_id, "big"),
                        span_id=int.from_bytes(span.span_id, "big"),
                        parent_span_id=int.from_bytes(span.parent_span_id, "big")
                        if span.parent_span_id
                        else None,
                        name=span.name,
                        start_ns=span.start_time_unix_nano,
                        end_ns=span.end_time_unix_nano,
                        error=span.status.code == 2,  # STATUS_CODE_ERROR
                        error_text=span.status.message or None,
                        attributes=_attributes(span.attributes),
                        service=service,
                        source="otlp",
                    )
                )
                count += 1
    return count


def _ids_as_base64(document: dict[str, Any]) -> dict[str, Any]:
    """OTLP/JSON writes ids in hex where protobuf's JSON mapping expects base64."""
    for resource_spans in document.get("resourceSpans") or []:
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                for field in _ID_FIELDS:
                    value = span.get(field)
                    if isinstance(value, str) and value:
                        try:
                            span[field] = base64.b64encode(bytes.fromhex(value)).decode()
                        except ValueError:
                            raise _BadRequest(
                                f"span {field} {value!r} is not hex (OTLP/JSON writes ids in hex)."
                            ) from None
    return document


def _attributes(pairs: Any) -> dict[str, Any]:
    return {pair.key: _value(pair.value) for pair in pairs}


def _value(value: Any) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which)


def _decompress(body: bytes, encoding: str) -> bytes:
    """The body, decompressed at most to the size limit (a small gzip bomb stays small)."""
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        raw = body
    elif encoding in ("gzip", "deflate"):
        window = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(window)
        try:
            raw = inflater.decompress(body, _MAX_BODY + 1)
        except zlib.error as exc:
            raise _BadRequest(f"the {encoding} body does not decompress: {exc}") from None
        if not inflater.eof and len(raw) <= _MAX_BODY:
            raise _BadRequest(f"the {encoding} body is truncated.")
    else:
        raise _BadRequest(f"content-encoding {encoding!r} is not supported; use gzip.", 415)
    if len(raw) > _MAX_BODY:
        raise _BadRequest(
            f"the body is over the {_MAX_BODY} byte limit; send smaller batches.", 413
        )
    return raw


def _error(status: int, message: str, content_type: str) -> Any:
    from fastapi import Response

    if content_type == _PROTOBUF:
        from google.rpc.status_pb2 import Status

        payload = Status(code=3, message=message).SerializeToString()
        return Response(content=payload, status_code=status, media_type=_PROTOBUF)
    return Response(
        content=json.dumps({"code": 3, "message": message}).encode(),
        status_code=status,
        media_type=_JSON,
    )
