"""Compiled templates kept for reuse: Odoo 11's ``mail.template.render_template`` compiles the template text with
Jinja on every call (every notification email, every automatic email). ``CompiledTemplates`` wraps an environment's
``from_string`` so that, inside ``reusing()``, one text is compiled once and its compiled template reused; outside it
(another database of the same process, without the addon), it compiles as before."""
import threading
from contextlib import contextmanager

_local = threading.local()


@contextmanager
def reusing():
    """Within the block (this thread only), compiled templates are reused."""
    outer = getattr(_local, 'on', False)
    _local.on = True
    try:
        yield
    finally:
        _local.on = outer


class CompiledTemplates:
    """A ``from_string`` that remembers what it compiled, by template text (at most ``size`` texts)."""

    def __init__(self, compile, size=500):
        self.compile = compile
        self.size = size
        self.cache = {}

    def __call__(self, source, globals=None, template_class=None):
        if not getattr(_local, 'on', False) or globals is not None or template_class is not None:
            return self.compile(source, globals, template_class)
        template = self.cache.get(source)
        if template is None:
            if len(self.cache) >= self.size:
                self.cache.clear()
            template = self.cache[source] = self.compile(source)
        return template


def install(environment):
    """Wrap ``environment.from_string`` (once) with a ``CompiledTemplates``; returns the wrapper."""
    current = environment.__dict__.get('from_string')
    if isinstance(current, CompiledTemplates):
        return current
    wrapper = environment.from_string = CompiledTemplates(environment.from_string)
    return wrapper
