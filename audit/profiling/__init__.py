"""Run-time profiling: find what actually blocks the event loop while a program runs.

Three sources feed one analysis: py-spy traces (`pyspy`, `chrometrace`), an in-process
heartbeat watchdog (`watchdog`, also as a pytest plugin and ASGI middleware) and
pyinstrument sessions (`pyinstrument_run`). Each becomes timelines of stacks; `loopstate`
decides when a loop thread runs code, `stretches` cuts the blocks, `sites` groups them, and
`findings` joins them with the static findings for `profile.md`.
"""
