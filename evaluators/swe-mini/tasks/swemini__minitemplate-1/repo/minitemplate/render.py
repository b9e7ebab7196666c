"""A tiny template language: ``{{ name }}`` placeholders."""

import re

_VAR = re.compile(r"\{\{(\w+)\}\}")


class TemplateError(KeyError):
    pass


def render(template, context):
    """Replace every ``{{name}}`` in ``template`` by ``str(context[name])``."""
    return _VAR.sub(lambda m: str(context[m.group(1)]), template)
