"""Where a domain's triggers and the built-in repairs (cancel, help, handoff, skip, repeat)
use the same words: the validator warns, because the built-in answers a message that
carries its words and none of the flow's phrases.

A flow's own phrase always wins ("cancel my appointment" starts `cancel_appointment`); a
keyword never beats a built-in, so a keyword that is a built-in phrase is one the flow may
never hear alone.
"""

from __future__ import annotations

from collections.abc import Iterator

from soni.config.models import Domain
from soni.du.lexicon import Lexicon, english
from soni.du.text import Phrases, words_of

Path = tuple[str | int, ...]


def builtin_overlaps(domain: Domain, lexicon: Lexicon | None = None) -> Iterator[tuple[Path, str]]:
    lexicon = lexicon or english()
    builtins = {name: Phrases(phrases) for name, phrases in lexicon.builtins.items()}
    for flow_name, flow in domain.flows.items():
        trigger: Path = ("flows", flow_name, "trigger")
        for builtin, phrases in builtins.items():
            shared = [
                (position, phrase)
                for position, phrase in enumerate(flow.trigger.phrases)
                if phrases.anywhere([w for w in words_of(phrase) if not w.startswith("{")])
            ]
            if shared:
                quoted = ", ".join(repr(phrase) for _, phrase in shared)
                yield (
                    (*trigger, "phrases", shared[0][0]),
                    f"{quoted} share words with the built-in {builtin}: these phrases start "
                    f"{flow_name!r}, any other message with those words is a {builtin}",
                )
        for position, keyword in enumerate(flow.trigger.keywords):
            for builtin, phrases in builtins.items():
                if phrases.whole(list(words_of(keyword))):
                    yield (
                        (*trigger, "keywords", position),
                        f"keyword {keyword!r} is a built-in {builtin} phrase: a message with "
                        f"it and none of the phrases of {flow_name!r} is a {builtin}",
                    )
