"""Loading the DSL: files and directories, and errors that name file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from soni.config import ActionRegistry, load_config
from soni.config.models import StepKind
from soni.errors import ConfigErrors

BASE = """\
version: "1"
slots:
  amount: {type: amount, prompt: "How much?"}
  target: {type: string}
flows:
  pay:
    description: Pay
    steps:
      - {id: ask, collect: amount}
      - {id: tell, say: "Paying {amount}."}
"""


def _write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def _errors(path: Path) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    return [str(error) for error in caught.value.errors]


def test_a_valid_file(tmp_path: Path) -> None:
    config = load_config(_write(tmp_path, "domain.yaml", BASE))
    flow = config.domain.flows["pay"]
    assert [step.kind for step in flow.steps] == [StepKind.COLLECT, StepKind.SAY]
    assert config.base_dir == tmp_path
    assert config.resolve("./state.db") == tmp_path / "state.db"


def test_a_directory_is_merged_by_name(tmp_path: Path) -> None:
    _write(tmp_path, "slots.yaml", 'version: "1"\nslots: {amount: {type: amount}}\n')
    _write(
        tmp_path, "flows.yaml", 'version: "1"\nflows: {pay: {steps: [{id: a, collect: amount}]}}\n'
    )
    config = load_config(tmp_path)
    assert set(config.domain.slots) == {"amount"}
    assert set(config.domain.flows) == {"pay"}
    assert len(config.files) == 2


def test_a_name_defined_twice_names_both_files(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", 'version: "1"\nslots: {amount: {type: amount}}\n')
    _write(tmp_path, "b.yaml", 'version: "1"\nslots:\n  amount: {type: number}\n')
    (error,) = _errors(tmp_path)
    assert (
        error
        == f"{tmp_path / 'b.yaml'}:3: slots.amount: slots.amount is already defined in {tmp_path / 'a.yaml'}:2"
    )


@pytest.mark.parametrize(
    ("replace", "with_", "expected"),
    [
        (
            "description: Pay",
            "descripton: Pay",
            ":7: flows.pay.descripton: unknown key 'descripton'",
        ),
        (
            "{id: tell, say:",
            "{id: ask, say:",
            ":10: flows.pay.steps[1].id: duplicate step id 'ask'",
        ),
        (
            "{id: tell, say:",
            "{id: tell, next: nowhere, say:",
            ":10: flows.pay.steps[1].next: unknown step 'nowhere'",
        ),
        (
            "collect: amount}",
            "collect: amout}",
            ":9: flows.pay.steps[0].collect: unknown slot 'amout'",
        ),
        (
            'say: "Paying {amount}."',
            'say: "Paying {amont}."',
            ":10: flows.pay.steps[1].say: text 'Paying {amont}.' uses unknown slot {amont}",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            "{id: tell, action: pay_now}",
            ":10: flows.pay.steps[1].action: unregistered action 'pay_now' (registered: none (set settings.actions))",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            '{id: tell, branch: [{if: "amount >", then: end}]}',
            ":10: flows.pay.steps[1].branch[0].if: bad condition: unexpected end at column 9 of 'amount >'",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            '{id: tell, branch: [{if: "amout > 1", then: end}]}',
            ":10: flows.pay.steps[1].branch[0].if: condition 'amout > 1' reads unknown slot 'amout'",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            "{id: tell, call: nope}",
            ":10: flows.pay.steps[1].call: unknown flow 'nope'",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            "{id: tell, say: hi, collect: amount}",
            ":10: flows.pay.steps[1]: a step needs exactly one of",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            "{id: tell, while: amount, do: [ask]}",
            ":10: flows.pay.steps[1]: a `while` step needs `do` (step ids) and `exit` (a step id)",
        ),
        (
            '{id: tell, say: "Paying {amount}."}',
            "{id: tell, link: pay, next: ask}",
            ":10: flows.pay.steps[1]: a `link` step replaces the flow: it cannot have `next`",
        ),
        (
            "target: {type: string}",
            "target: {type: enum}",
            ":4: slots.target: an enum slot needs `values`",
        ),
        (
            "target: {type: string}",
            'target: {type: regex, pattern: "("}',
            ":4: slots.target: `pattern` is not a valid regex",
        ),
        ('version: "1"', 'version: "2"', ":1: version: Input should be '1'"),
        (
            "    steps:\n",
            "    steps: []\n    old_steps:\n",
            ":8: flows.pay.steps: Tuple should have at least 1 item",
        ),
    ],
)
def test_errors_name_file_line_and_field(
    tmp_path: Path, replace: str, with_: str, expected: str
) -> None:
    text = BASE.replace(replace, with_)
    assert text != BASE
    errors = _errors(_write(tmp_path, "domain.yaml", text))
    assert any(
        error.startswith(str(tmp_path / "domain.yaml")) and expected in error for error in errors
    ), errors


def test_all_reference_errors_are_reported_together(tmp_path: Path) -> None:
    text = BASE.replace("collect: amount}", "collect: amout, next: nowhere}")
    errors = _errors(_write(tmp_path, "domain.yaml", text))
    assert len(errors) == 2


def test_invalid_yaml_names_the_line(tmp_path: Path) -> None:
    (error,) = _errors(_write(tmp_path, "domain.yaml", BASE + "  broken: [\n"))
    assert error.startswith(f"{tmp_path / 'domain.yaml'}:12: ")


def test_missing_file(tmp_path: Path) -> None:
    (error,) = _errors(tmp_path / "nope.yaml")
    assert error == f"{tmp_path / 'nope.yaml'}: no such file or directory"


def test_actions_module_beside_the_config(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "handlers.py",
        """\
        def add(amount, target=None):
            return {"total": amount + 1}

        async def everything(slots):
            return dict(slots)

        def _private():
            pass
        """,
    )
    text = BASE.replace('version: "1"', 'version: "1"\nsettings: {actions: handlers}')
    config = load_config(_write(tmp_path, "domain.yaml", text))
    assert config.actions.names == ("add", "everything")


async def test_sync_and_async_actions_run_with_their_slots(tmp_path: Path) -> None:
    import threading

    threads = []

    def sync_action(amount):
        threads.append(threading.current_thread().name)
        return {"double": amount * 2}

    async def async_action(slots):
        return {"seen": ",".join(sorted(slots))}

    registry = ActionRegistry.from_functions(
        {"sync_action": sync_action, "async_action": async_action}
    )
    assert await registry.run("sync_action", {"amount": 2, "other": 1}) == {"double": 4}
    assert threads[0] != threading.current_thread().name  # ran in a worker thread
    assert await registry.run("async_action", {"a": 1, "b": None}) == {"seen": "a,b"}


async def test_bad_action_results_are_errors(tmp_path: Path) -> None:
    from soni.errors import ActionError

    registry = ActionRegistry.from_functions(
        {"bad": lambda: [1, 2], "nested": lambda: {"x": {"y": 1}}}
    )
    with pytest.raises(ActionError, match="returned list, expected a mapping"):
        await registry.run("bad", {})
    with pytest.raises(ActionError, match="values must be str, int, float, bool or None"):
        await registry.run("nested", {})


def test_two_configurations_may_both_name_their_module_actions(tmp_path: Path) -> None:
    loaded = []
    for name, value in (("one", 1), ("two", 2)):
        directory = tmp_path / name
        directory.mkdir()
        _write(directory, "actions.py", f"def which():\n    return {{'value': {value}}}\n")
        text = BASE.replace('version: "1"', 'version: "1"\nsettings: {actions: actions}')
        loaded.append(load_config(_write(directory, "domain.yaml", text)))
    first = loaded[0].actions._actions["which"].function()
    second = loaded[1].actions._actions["which"].function()
    assert (first, second) == ({"value": 1}, {"value": 2})


def test_an_actions_module_that_fails_to_import(tmp_path: Path) -> None:
    _write(tmp_path, "actions.py", "raise RuntimeError('broken on import')\n")
    text = BASE.replace('version: "1"', 'version: "1"\nsettings: {actions: actions}')
    (error,) = _errors(_write(tmp_path, "domain.yaml", text))
    assert (
        ":2: settings.actions: cannot import actions module 'actions': RuntimeError: broken on import"
        in error
    )


def test_the_bundled_example_loads() -> None:
    from soni.examples.banking import DOMAIN

    config = load_config(DOMAIN)
    assert set(config.domain.flows) == {"check_balance", "transfer_funds", "block_card"}
    assert set(config.actions.names) == {
        "block_card",
        "check_limits",
        "execute_transfer",
        "get_balance",
    }


ACTIONS_BASE = """\
version: "1"
settings: {actions: handlers}
slots:
  amount: {type: amount, prompt: "How much?"}
  tx: {type: string}
flows:
  pay:
    steps:
      - {id: ask, collect: amount}
      - {id: send, action: ACTION, outputs: {OUTPUT: tx}}
"""

HANDLERS = """\
from typing import TypedDict


class Sent(TypedDict):
    reference: str


def by_literal(amount):
    if amount > 10:
        return {"reference": "big"}
    return {"reference": "small", "note": "ok"}


def by_annotation(amount) -> Sent:
    return Sent(reference="x")


def unknown_keys(amount):
    result = {"reference": "x"}
    return result


def not_a_slot(amount, currency):
    return {"reference": "x"}


def all_slots(slots):
    return {"reference": "x"}
"""


@pytest.mark.parametrize(
    ("action", "output", "expected"),
    [
        ("by_literal", "reference", None),
        ("by_literal", "note", None),  # returned on one path: enough
        (
            "by_literal",
            "tx_id",
            "action 'by_literal' never returns 'tx_id' (it returns: note, reference)",
        ),
        ("by_annotation", "reference", None),
        (
            "by_annotation",
            "ref",
            "action 'by_annotation' never returns 'ref' (it returns: reference)",
        ),
        ("unknown_keys", "anything", None),  # not knowable before it runs: checked then
        ("not_a_slot", "reference", "action 'not_a_slot' takes 'currency', which is not a slot"),
        ("all_slots", "reference", None),
    ],
)
def test_action_parameters_and_output_keys_are_checked_at_load(
    tmp_path: Path, action: str, output: str, expected: str | None
) -> None:
    _write(tmp_path, "handlers.py", HANDLERS)
    text = ACTIONS_BASE.replace("ACTION", action).replace("OUTPUT", output)
    path = _write(tmp_path, "domain.yaml", text)
    if expected is None:
        load_config(path)
        return
    (error,) = _errors(path)
    field = "action" if "takes" in expected else f"outputs.{output}"
    assert error.startswith(f"{path}:10: flows.pay.steps[1].{field}: {expected}"), error


@pytest.mark.parametrize(
    ("slot", "expected"),
    [
        ("{type: date, min: today, max: today+90}", None),
        ("{type: date, min: 2026-01-01, max: today - 1}", None),
        ("{type: date, min: someday}", "`min` of a date slot must be a date (2026-01-31), `today`"),
        ("{type: string, max: 40, min: 2}", None),
        ("{type: string, max: 2.5}", "`max` of a string slot is a length: a whole number >= 0"),
        ("{type: amount, min: today}", "`min` of a amount slot must be a number"),
        ("{type: boolean, min: 1}", "`min` applies to number, amount, string and date slots"),
        ("{type: string, rejection: 'Too long, {nope}.'}", "uses unknown slot {nope}"),
        ("{type: time, aliases: [hour]}", None),
    ],
)
def test_slot_limits_are_checked_by_type(tmp_path: Path, slot: str, expected: str | None) -> None:
    text = BASE.replace("target: {type: string}", f"target: {slot}")
    path = _write(tmp_path, "domain.yaml", text)
    if expected is None:
        load_config(path)
        return
    (error,) = _errors(path)
    assert error.startswith(f"{path}:4: slots.target"), error
    assert expected in error, error


def test_date_order_is_a_setting(tmp_path: Path) -> None:
    text = BASE.replace('version: "1"', 'version: "1"\nsettings: {date_order: mdy}')
    assert load_config(_write(tmp_path, "domain.yaml", text)).domain.settings.date_order == "mdy"
    text = BASE.replace('version: "1"', 'version: "1"\nsettings: {date_order: myd}')
    (error,) = _errors(_write(tmp_path, "domain.yaml", text))
    assert ":2: settings.date_order: Input should be 'dmy', 'mdy' or 'ymd'" in error
