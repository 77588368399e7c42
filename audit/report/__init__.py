"""`soni-audit report`: markdown audit reports rendered with Jinja2 from one check run."""
