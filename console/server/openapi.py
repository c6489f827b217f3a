"""The API's OpenAPI 3.1 document, generated from the route table and the models' type hints."""

from __future__ import annotations

import enum
import functools
import types
import typing
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any, get_args, get_origin

import msgspec

from backends import imports, limits
from backends.http.routes import API_PREFIX, ENDPOINTS, Endpoint, Param
from backends.identity import phones
from backends.models import Role

_ERRORS = {
    "400": "Malformed request (bad JSON, unknown or malformed parameter).",
    "401": "Missing, unknown or revoked bearer token.",
    "403": "The token's role may not do this (supervisors are read-only).",
    "404": "No such customer, contact, event, agent or token.",
    "409": "Lost a race: taken by someone else, or `expected_version` is stale.",
    "422": "Invalid input (a rule of the contract is broken).",
    "503": "The store cannot be reached or opened.",
}


class _Schemas:
    """JSON Schemas by type, collecting named components for the models."""

    def __init__(self) -> None:
        self.components: dict[str, Any] = {}

    def of(self, tp: Any) -> dict[str, Any]:
        if tp is Any or tp is object:
            return {}
        if tp is type(None):
            return {"type": "null"}
        origin, args = get_origin(tp), get_args(tp)
        if origin in (typing.Union, types.UnionType):
            return {"anyOf": [self.of(a) for a in args]}
        if origin is typing.Literal:
            return {"enum": list(args)}
        if origin in (tuple, list, set, frozenset):
            item = args[0] if args else Any
            return {"type": "array", "items": self.of(item)}
        if origin in (dict, Mapping, typing.Mapping) or tp in (dict, Mapping):
            value = args[1] if len(args) == 2 else Any
            return {"type": "object", "additionalProperties": self.of(value)}
        if isinstance(tp, type):
            if issubclass(tp, msgspec.Struct):
                return self._model(tp)
            if issubclass(tp, enum.Enum):
                return {"type": "string", "enum": [m.value for m in tp]}
            if tp is bool:
                return {"type": "boolean"}
            if tp is int:
                return {
                    "type": "integer",
                    "format": "int64",
                    "minimum": limits.INT_MIN,
                    "maximum": limits.INT_MAX,
                }
            if tp is float:
                return {"type": "number"}
            if tp is str:
                return {"type": "string"}
            if tp is datetime:
                return {"type": "string", "format": "date-time"}
            if tp is date:
                return {"type": "string", "format": "date"}
        return {}

    def _model(self, cls: type[msgspec.Struct]) -> dict[str, Any]:
        name = cls.__name__
        if name not in self.components:
            self.components[name] = {}  # placeholder against recursion
            props, required = {}, []
            for f in msgspec.structs.fields(cls):
                props[f.name] = self.of(f.type)
                if f.required:
                    required.append(f.name)
            doc = (cls.__doc__ or "").strip().splitlines()
            self.components[name] = {
                "type": "object",
                "description": doc[0] if doc else name,
                "properties": props,
                "required": required,
            }
        return {"$ref": f"#/components/schemas/{name}"}


#: How many integers a paged read's cursor holds ("at.id" for the timeline).
_CURSOR_PARTS = {"timeline": 2, "queue": 4}
#: A text that must hold more than white space (an empty note or message answers 422).
_NOT_BLANK = {"pattern": "\\S"}


def _bounds(ep: Endpoint, p: Param) -> dict[str, Any]:
    """The bounds the contract checks on a query parameter (`backends.limits`), as schema."""
    if p.name == "limit":
        high = limits.PAGE_LIMITS.get(ep.call, limits.DEFAULT_PAGE_LIMIT)
        return {"minimum": 1, "maximum": high}
    if p.name == "cursor" and ep.call in _CURSOR_PARTS:
        more = r"\.-?[0-9]{1,18}" * (_CURSOR_PARTS[ep.call] - 1)
        return {"pattern": rf"^-?[0-9]{{1,18}}{more}$"}
    if ep.call == "at_risk" and p.name == "within_minutes":
        return {"minimum": 0, "maximum": limits.AT_RISK_MAX_MINUTES}
    if ep.call == "import_file" and p.name == "source":
        return {"pattern": "^[A-Za-z0-9_.-]{1,40}$"}
    if ep.call == "import_file" and p.name == "kind":
        return {"enum": list(imports.KINDS)}
    if ep.call == "import_file" and p.name == "format":
        return {"enum": list(imports.FORMATS)}
    if ep.call == "import_file" and p.name == "default_region":
        return {"enum": sorted(phones.REGIONS)}
    return {}


def _bounded(schema: dict[str, Any], bounds: dict[str, Any]) -> dict[str, Any]:
    """`schema` with `bounds` on its non-null branch (a `T | None` is an anyOf)."""
    if not bounds:
        return schema
    if "anyOf" in schema:
        return {
            **schema,
            "anyOf": [b if b.get("type") == "null" else {**b, **bounds} for b in schema["anyOf"]],
        }
    return {**schema, **bounds}


def _parameter(ep: Endpoint, p: Param, schemas: _Schemas) -> dict[str, Any]:
    schema = _bounded(schemas.of(p.type), _bounds(ep, p))
    if p.default is not None and not isinstance(p.default, tuple):
        schema = {
            **schema,
            "default": p.default.value if isinstance(p.default, enum.Enum) else p.default,
        }
    out: dict[str, Any] = {"name": p.name, "in": p.where, "required": p.required, "schema": schema}
    if get_origin(p.type) is tuple or (
        get_origin(p.type) in (typing.Union, types.UnionType)
        and any(get_origin(a) is tuple for a in get_args(p.type))
    ):
        out["style"], out["explode"] = "form", True
        items = schema.get("items", {})
        if "enum" in items:  # empty values are left out
            schema = {**schema, "items": {**items, "enum": [*items["enum"], ""]}}
            out["schema"] = schema
        out["description"] = (
            "Repeat the parameter for several values; empty values are left out, so one "
            "empty value means none."
        )
    if p.doc:
        out["description"] = p.doc
    if p.group:
        out["description"] = (out.get("description", "") + f" (a field of {p.group})").strip()
    return out


def _body_schema(ep: Endpoint, p: Param, schemas: _Schemas) -> dict[str, Any]:
    """A body field's schema, with the bounds the contract checks (`backends.limits`)."""
    schema = schemas.of(p.type)
    if ep.call in ("add_note", "add_customer_note") and p.name == "body":
        return {**schema, **_NOT_BLANK}
    if ep.call == "edit_profile" and p.name == "field":
        return {**schema, "enum": list(limits.EDITABLE_FIELDS)}
    if ep.call == "create_token" and p.name in ("name", "agent"):
        return _bounded(schema, {"pattern": limits.TOKEN_NAME_PATTERN})
    if ep.call != "deliver_inbound":
        return schema
    if p.name == "text":
        schema = {**schema, **_NOT_BLANK}
    if p.name in limits.FIELD_LIMITS:
        return {**schema, "description": f"At most {limits.FIELD_LIMITS[p.name]:,} characters."}
    if p.name == "at":
        return {
            **schema,
            "description": f"When the customer sent it: at most {limits.INBOUND_PAST.days} days "
            f"before and {limits.INBOUND_FUTURE.days} day after the server's clock "
            "(default: now).",
        }
    return schema


def _operation(ep: Endpoint, schemas: _Schemas) -> dict[str, Any]:
    params = ep.params()
    op: dict[str, Any] = {
        "operationId": ep.operation_id,
        "summary": ep.summary or ep.call,
        "tags": ["admin" if ep.roles == {Role.ADMIN} else ("write" if ep.write else "read")],
        "x-roles": sorted(r.value for r in ep.roles if not (ep.write and r.value == "supervisor")),
        "parameters": [_parameter(ep, p, schemas) for p in params if p.where != "body"],
        "responses": {
            "200": {
                "description": "OK",
                "content": {"application/json": {"schema": schemas.of(ep.returns())}},
            },
            **{
                code: {
                    "description": text,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                    },
                }
                for code, text in _ERRORS.items()
            },
        },
    }
    headers: dict[str, Any] = {}
    if ep.call == "whoami":
        headers["X-Vista-Capabilities"] = {
            "description": "What the store behind this server can do at best, as "
            "comma-separated capability names (WRITE,KPIS,...); a client offers only those. "
            "A name the client does not know is a newer server's feature: ignore it.",
            "schema": {"type": "string", "pattern": "^[A-Z_]*(,[A-Z_]+)*$"},
        }
    if ep.write and not ep.raw_body:
        headers["Idempotent-Replay"] = {
            "description": "true when this is the first answer again, to a write retried "
            "with the same Idempotency-Key (on this server or another on the same store).",
            "schema": {"type": "string", "enum": ["true"]},
        }
    if headers:
        op["responses"]["200"]["headers"] = headers
    if ep.public:  # a token is optional: without one the caller reads as the public
        op["security"] = [{}, {"bearer": []}]
    body = [p for p in params if p.where == "body"]
    if ep.raw_body:
        op["requestBody"] = {
            "required": True,
            "content": {
                media: {
                    "schema": {
                        "description": "An array of objects, one a record (with format=csv "
                        "or jsonl, the file as that format reads it)."
                    }
                    if media == "application/json"
                    else {"minLength": 1, "description": "The file (at least one byte)."}
                }
                for media in ep.raw_body
            },
        }
    elif body:
        op["requestBody"] = {
            "required": any(p.required for p in body),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {p.name: _body_schema(ep, p, schemas) for p in body},
                        "required": [p.name for p in body if p.required],
                        "additionalProperties": False,
                    }
                }
            },
        }
    if ep.write and not ep.raw_body:  # an import is not replayed: its report says what changed
        op["parameters"].append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "A retried write with the same key gets the first answer "
                "again, from any server on the same store (PostgreSQL keeps the answers a "
                "day). Keys belong to the token; a key reused for another request (another "
                "method, path or body) answers 422; a longer key answers 400.",
            }
        )
    return op


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    schemas = _Schemas()
    paths: dict[str, dict[str, Any]] = {}
    for ep in ENDPOINTS:
        paths.setdefault(ep.url_path, {})[ep.method.lower()] = _operation(ep, schemas)
    paths[API_PREFIX + "/openapi.json"] = {
        "get": {
            "operationId": "openapi",
            "summary": "This document.",
            "tags": ["read"],
            "parameters": [],
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {}}}},
                "401": {"description": _ERRORS["401"]},
            },
        }
    }
    schemas.components["Error"] = {
        "type": "object",
        "properties": {
            "error": {
                "type": "object",
                "properties": {
                    "type": {
                        "type": "string",
                        "description": "VistaError class: NotFound, Conflict, ...",
                    },
                    "title": {"type": "string"},
                    "message": {"type": "string"},
                    "current": {"type": "object", "description": "Conflict: the state that won."},
                    "current_type": {"type": "string"},
                },
                "required": ["type", "title", "message"],
            }
        },
        "required": ["error"],
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Vista API",
            "version": "1",
            "description": "The Vista Backend contract over HTTP. Every request needs "
            "`Authorization: Bearer <token>`; supervisors are read-only.",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }
