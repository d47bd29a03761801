"""Compiled templates reused by text, only where asked (services.templates), with the same output."""
import jinja2

from services import templates, timing


def environment():
    env = jinja2.Environment(autoescape=True)
    compiled = []
    original = env.from_string

    def counting(source, globals=None, template_class=None):
        compiled.append(source)
        return original(source, globals, template_class)
    env.from_string = counting
    templates.install(env)
    return env, compiled


def test_one_text_is_compiled_once_inside_reusing_with_the_same_output():
    env, compiled = environment()
    with templates.reusing():
        first = env.from_string('Hola {{ name }}').render(name='<Ana>')
        second = env.from_string('Hola {{ name }}').render(name='<Ana>')
        env.from_string('Chao')
    assert first == second == env.from_string('Hola {{ name }}').render(name='<Ana>') == 'Hola &lt;Ana&gt;'
    assert compiled == ['Hola {{ name }}', 'Chao', 'Hola {{ name }}']


def test_outside_reusing_every_call_compiles_as_before():
    env, compiled = environment()
    for _ in range(2):
        assert env.from_string('{{ 1 + 1 }}').render() == '2'
    assert compiled == ['{{ 1 + 1 }}', '{{ 1 + 1 }}']


def test_reused_template_renders_each_call_with_its_own_values():
    env, compiled = environment()
    with templates.reusing():
        outputs = [env.from_string('{{ name }}').render(name=name) for name in ('Ana', 'Luis')]
    assert outputs == ['Ana', 'Luis'] and compiled == ['{{ name }}']


def test_installing_twice_wraps_once():
    env, _compiled = environment()
    assert templates.install(env) is env.from_string


def test_timing_counts_exclusive_time_per_phase_only_when_started():
    with timing.phase('ticket'):
        pass
    assert timing.stop() == {}
    timing.start()
    with timing.phase('ticket'):
        with timing.phase('chatter'):
            pass
    totals = timing.stop()
    assert set(totals) == {'ticket', 'chatter'} and all(seconds >= 0 for seconds in totals.values())
