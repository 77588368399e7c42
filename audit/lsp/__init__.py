"""`soni-audit server`: the audit as a language server (LSP over stdio, on pygls).

`engine` is the one module that talks to the rest of soni-audit; `positions` and
`diagnostics` turn findings into LSP values; `documents` keeps each open buffer's state and
debounces its checks; `projects` maps files to their configuration; `actions` and `hover`
answer the editor's requests; `server` wires it all to pygls; `command` starts it.
"""
