"""Evaluate arithmetic expressions with + - * / and parentheses.

Grammar::

    expr   := term (("+" | "-") term)*
    term   := factor (("*" | "/") factor)*
    factor := "-" factor | NUMBER | "(" expr ")"
"""

import re

_TOKEN = re.compile(r"\s*(?:(\d+(?:\.\d+)?)|(.))")


class CalcError(ValueError):
    pass


def _tokenize(text):
    tokens = []
    for number, op in _TOKEN.findall(text):
        if number:
            tokens.append(float(number) if "." in number else int(number))
        elif op.strip():
            if op not in "+-*/()":
                raise CalcError(f"unexpected character {op!r}")
            tokens.append(op)
    return tokens


class _Parser:
    def __init__(self, tokens):
        self.tokens = tokens
        self.pos = 0

    def peek(self):
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self):
        token = self.peek()
        self.pos += 1
        return token

    def expr(self):
        left = self.term()
        if self.peek() in ("+", "-"):
            op = self.take()
            right = self.expr()
            return left + right if op == "+" else left - right
        return left

    def term(self):
        left = self.factor()
        if self.peek() in ("*", "/"):
            op = self.take()
            right = self.term()
            if op == "*":
                return left * right
            if right == 0:
                raise CalcError("division by zero")
            return left / right
        return left

    def factor(self):
        token = self.take()
        if token == "-":
            return -self.factor()
        if token == "(":
            value = self.expr()
            if self.take() != ")":
                raise CalcError("missing ')'")
            return value
        if isinstance(token, (int, float)):
            return token
        raise CalcError(f"unexpected {token!r}" if token is not None else "unexpected end")


def evaluate(text):
    parser = _Parser(_tokenize(text))
    value = parser.expr()
    if parser.peek() is not None:
        raise CalcError(f"unexpected {parser.peek()!r}")
    return value
