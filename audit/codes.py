"""Every rule code, in order. Kept apart from the rule classes so that selecting rules and
reading cached results never imports the analysis machinery (a test keeps the two equal)."""

RULE_CODES: tuple[str, ...] = (
    "BLK100",
    "BLK101",
    "BLK102",
    "BLK103",
    "BLK104",
    "TIG100",
    "TIG101",
    "TIG102",
    "TIG103",
    "TIG104",
    "MUT100",
    "MUT101",
    "MUT102",
    "MUT103",
    "MUT104",
    "AUD900",
    "AUD901",
)
