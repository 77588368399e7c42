"""Hover on a flagged call: the rule's summary with a link to its page, the finding's
message, and for a chain each hop with where it is."""

from __future__ import annotations

from pathlib import Path

from audit.lsp.engine import Finding, RuleInfo


def hover_text(findings: list[Finding], rules: dict[str, RuleInfo | None], root: Path) -> str:
    return "\n\n---\n\n".join(_one(finding, rules.get(finding.code), root) for finding in findings)


def _one(finding: Finding, rule: RuleInfo | None, root: Path) -> str:
    if rule is None:
        title = f"**{finding.code}**"
    else:
        link = f" ([rule page]({rule.page.resolve().as_uri()}))" if rule.page is not None else ""
        title = f"**{finding.code}** `{rule.name}`: {rule.summary}{link}"
    parts = [title, finding.message]
    if finding.chain:
        parts.append("Chain: " + " → ".join(f"`{name}`" for name in finding.chain))
    if finding.related:
        hops = [
            f"{number}. [{hop.path}:{hop.line}]({_uri(root / hop.path)}#L{hop.line}) {hop.message}"
            for number, hop in enumerate(finding.related, start=1)
        ]
        parts.append("\n".join(hops))
    if finding.fix is not None:
        kind = finding.fix.applicability.value
        parts.append(f"Fix ({kind}): {finding.fix.message}")
    return "\n\n".join(parts)


def _uri(path: Path) -> str:
    return path.resolve().as_uri()
