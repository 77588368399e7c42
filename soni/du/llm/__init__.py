"""soni: du.llm — understanding with a chat model, in soni's command language.

`language` is that language for the model: the JSON schema its reply must follow (with the
domain's flow and slot names) and the models that check a reply's shape. `prompt` says what
the model is shown; `reply` turns a reply into commands, with the rules' extractors
normalising and checking every value; `generator` runs a turn (`llm`: the model, the rules
when it fails; `hybrid`: the rules, the model when they find nothing). `client` is the only
module that imports `openai`, and it is imported only when a model is configured.
"""
