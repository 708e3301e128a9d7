"""The generated document still says everything the hand-written one said.

``data/openapi-v1-handwritten.json`` is the document as it was written by hand before the schemas
generated it. Every path, method, status, parameter, security requirement, error code, and every field
of every body with its type, bounds, enumeration and whether it is required must still be described.
Descriptions may be reworded; new fields and statuses may be added.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from portal.api.openapi import document

HANDWRITTEN = Path(__file__).parent / "data" / "openapi-v1-handwritten.json"
#: Keywords of a schema whose values are facts to keep (descriptions are not).
KEPT = ("type", "enum", "format", "minimum", "maximum", "maxLength", "additionalProperties", "examples")
Fact = tuple[str, str, str]


def _resolve(doc: dict[str, Any], node: dict[str, Any], kind: str = "schemas") -> dict[str, Any]:
    while "$ref" in node:
        node = doc["components"][kind][node["$ref"].rsplit("/", 1)[1]]
    return node


def _keyword_facts(where: str, schema: dict[str, Any]) -> set[Fact]:
    facts: set[Fact] = set()
    for keyword in KEPT:
        value = schema.get(keyword)
        if value is None or isinstance(value, dict):
            continue
        values = value if isinstance(value, list) and keyword in ("type", "enum") else [value]
        facts |= {(where, keyword, json.dumps(v)) for v in values}
    return facts


def schema_facts(doc: dict[str, Any], node: dict[str, Any], where: str, depth: int = 0) -> set[Fact]:
    """Each field's keywords, wherever a field is reached (``$ref`` and ``anyOf`` see through)."""
    schema = _resolve(doc, node)
    if depth > 8:
        return set()
    facts = _keyword_facts(where, schema)
    facts |= {(where, "required", name) for name in schema.get("required", [])}
    for alternative in schema.get("anyOf", []):
        facts |= schema_facts(doc, alternative, where, depth + 1)
    for name, sub in schema.get("properties", {}).items():
        facts |= schema_facts(doc, sub, f"{where}.{name}", depth + 1)
    for sub in [schema.get("additionalProperties"), *schema.get("patternProperties", {}).values()]:
        if isinstance(sub, dict):
            facts |= schema_facts(doc, sub, f"{where}.*", depth + 1)
    if "items" in schema:
        facts |= schema_facts(doc, schema["items"], f"{where}[]", depth + 1)
    return facts


def operation_facts(doc: dict[str, Any], where: str, operation: dict[str, Any]) -> set[Fact]:
    facts: set[Fact] = {(where, "operationId", operation["operationId"])}
    facts |= {(where, "security", json.dumps(requirement, sort_keys=True)) for requirement in operation["security"]}
    for parameter in operation.get("parameters", []):
        facts.add((where, "parameter", json.dumps(_resolve(doc, parameter, "parameters"), sort_keys=True)))
    if body := operation.get("requestBody"):
        facts.add((where, "body required", json.dumps(body["required"])))
        facts |= schema_facts(doc, body["content"]["application/json"]["schema"], f"{where} body")
    for status, answer in operation["responses"].items():
        answer = _resolve(doc, answer, "responses")
        facts.add((where, "status", status))
        facts |= {(f"{where} {status}", "header", name) for name in answer.get("headers", {})}
        for media_type, content in answer.get("content", {}).items():
            facts.add((f"{where} {status}", "media type", media_type))
            if "schema" in content:
                facts |= schema_facts(doc, content["schema"], f"{where} {status}")
        facts |= {(f"{where} {status}", "code", code) for code in re.findall(r"`(\w+)`", answer["description"])}
    return facts


def facts(doc: dict[str, Any]) -> set[Fact]:
    found: set[Fact] = set()
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            found |= operation_facts(doc, f"{method.upper()} {path}", operation)
    found |= {("document", "error code", code) for code in re.findall(r"`(\w+)`", doc["info"]["description"])}
    found |= {("document", "schema", name) for name in doc["components"]["schemas"]}
    found |= {("document", "security scheme", json.dumps(doc["components"]["securitySchemes"], sort_keys=True))}
    found |= {("document", key, json.dumps(doc[key], sort_keys=True)) for key in ("openapi", "servers", "security")}
    return found


def test_the_generated_document_keeps_every_fact_of_the_handwritten_one():
    before = json.loads(HANDWRITTEN.read_text(encoding="utf-8"))
    missing = sorted(facts(before) - facts(document()))
    assert missing == []


def test_the_comparison_sees_a_lost_field_and_a_lost_status():
    doc = document()
    del doc["components"]["schemas"]["ApplicationContent"]["properties"]["note"]
    del doc["paths"]["/applications/{application_id}/approve"]["post"]["responses"]["409"]
    lost = facts(document()) - facts(doc)
    assert ("PUT /applications/{application_id} body.note", "type", '"string"') in lost
    assert ("POST /applications/{application_id}/approve", "status", "409") in lost


def test_decisions_document_the_expected_version_and_its_refusal():
    doc = document()
    for action, schema in (("approve", "Approve"), ("reject", "Reject"), ("revoke", "Reject")):
        operation = doc["paths"][f"/applications/{{application_id}}/{action}"]["post"]
        assert operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(f"/{schema}")
        assert "`stale_version`" in operation["responses"]["409"]["description"]
    version = doc["components"]["schemas"]["Approve"]["properties"]["expected_version"]
    # An integer, not null: left out it is not checked, null is refused (test_decisions.py).
    assert (version["type"], version["minimum"], version["maximum"]) == ("integer", 1, 2**31 - 1)
    assert "anyOf" not in version and "default" not in version
    assert "expected_version" not in doc["components"]["schemas"]["Approve"].get("required", [])
