"""soni: du — the default understanding component, rules and data only.

`generator` reads a message in order, with one module per reading: `requests` (several
requests in one message), `triggers` (flow phrases, keywords, regexes), `corrections`,
`answers` (the value of the slot asked). Below them: `message` (tokens and what is found in
them, computed once), `values` (where values stand, where free text ends), `extractors` and
`dates` (typed values with their places), `typos` (edit distance to trigger words), `index`
(what the domain says about its slots and flows), `lexicon` (`lexicon.toml`), `overlaps`
(the validator's warnings about triggers the built-ins shadow).
"""
