"""Templates get the viewer's capabilities (`caps`, from access.GATES) or values access computed —
never a role string; the assessment's code asks access, never a role (issue 20, item 2)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "templates" / "assessment").glob("*.html"))
MODULES = sorted(p for p in (ROOT / "assessment").rglob("*.py") if "migrations" not in p.parts)

# `role == "city"`, `role in …`, `{{ role }}`, and the names of roles that are not also scope names
ROLE_IN_TEMPLATE = re.compile(r"\brole\s*(==|!=|\bin\b)|\{\{\s*role\b|\{%[^%]*[\"'](city|agent)[\"']")


def role_strings_in_template(text: str) -> list[str]:
    return [m.group(0) for m in ROLE_IN_TEMPLATE.finditer(text)]


def role_uses_in_module(source: str) -> list[int]:
    """Lines that read a role: Role.X, role_of()/has_role()/require_role(), a "role" context key."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
            lines.append(node.lineno)
        elif isinstance(node, ast.Call):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("role_of", "has_role", "require_role"):
                lines.append(node.lineno)
        elif isinstance(node, ast.Dict):
            lines += [k.lineno for k in node.keys if isinstance(k, ast.Constant) and k.value == "role"]
    return sorted(lines)


def test_it_finds_role_strings():
    for text in ('{% if role == "district" %}', "{{ role }}", '{% if x in "agent" %}', "{% if u.kind == 'city' %}"):
        assert role_strings_in_template(text), text
    assert role_strings_in_template('{% if caps.rule_assessment %}<div role="alert">{% if scope == "district" %}') == []
    source = 'x = access.role_of(u) == Role.CITY\nctx = {"role": 1}\ny = OrderParticipant.Role.LEAD\n'
    assert role_uses_in_module(source) == [1, 1, 2]


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_assessment_templates_name_no_role(template):
    assert role_strings_in_template(template.read_text()) == [], f"{template.name}: use caps.<capability>"


@pytest.mark.parametrize("module", MODULES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_assessment_code_asks_access_not_a_role(module):
    assert role_uses_in_module(module.read_text()) == [], f"{module}: ask hotline.access (may, supervised_district…)"
