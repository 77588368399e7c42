"""Rule documentation for `soni-audit rules`, generated from the rule classes themselves."""

from __future__ import annotations

from audit.rules import all_rules
from audit.rules.base import Rule, example_code


def rules_table() -> str:
    rules = all_rules()
    width = max(len(rule.name) for rule in rules)
    lines = [
        f"{rule.code}  {rule.name:<{width}}  {rule.summary}" + (" (opt-in)" if rule.opt_in else "")
        for rule in rules
    ]
    return "\n".join(lines) + "\n"


def rule_page(rule: type[Rule]) -> str:
    summary = rule.summary + (" (opt-in: select it by its exact code)" if rule.opt_in else "")
    parts = [f"# {rule.code}: {rule.name}", "", summary, "", rule.documentation()]
    if rule.INVALID:
        parts += ["", "## Example", "", "```python", example_code(rule.INVALID[0]).rstrip(), "```"]
    if rule.VALID:
        parts += ["", "Not reported:", "", "```python", example_code(rule.VALID[0]).rstrip(), "```"]
    if rule.FIXED:
        example = rule.FIXED[0]
        parts += [
            "",
            f"With `{example.flags}`:",
            "",
            "```python",
            example_code(example.before).rstrip(),
        ]
        parts += ["```", "", "becomes", "", "```python", example_code(example.after).rstrip()]
        parts += ["```"]
    reference = rule.reference()
    if reference:
        parts += ["", reference.rstrip()]
    return "\n".join(parts) + "\n"
