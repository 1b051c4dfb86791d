"""What the canonical form forgets (a rewrite) and what it keeps (a different answer)."""

from __future__ import annotations

import pytest

from resnet_signs.similarity.normalise import function_units, starter_positions
from resnet_signs.similarity.sources import parse

COURSE = '''
def block(X, f, filters, training=True):
    """The identity block."""
    F1, F2, F3 = filters
    X_shortcut = X  # keep the input
    X = Conv2D(filters=F2, kernel_size=f, padding="same")(X)
    X = BatchNormalization(axis=3)(X, training=training)
    X = Add()([X, X_shortcut])
    X = Activation("relu")(X)
    return X
'''

REWRITTEN = '''
def block(inputs, f, filters, training = True):
    # my comments are elsewhere
    skip = inputs
    a, b, c = filters

    inputs = Conv2D(filters = b,kernel_size = f,padding = 'same')(inputs)
    inputs = BatchNormalization(axis = 3)(inputs,training = training)  # batch norm
    inputs = Add()([inputs, skip])
    return Activation('relu')(inputs)
'''

EXTRACTED = '''
def _conv_bn(t, n, k, training):
    """A helper the copier extracted."""
    t = Conv2D(filters=n, kernel_size=k, padding="same")(t)
    t = BatchNormalization(axis=3)(t, training=training)
    return t
'''
CALLER = '''
def block(X, f, filters, training=True):
    F1, F2, F3 = filters
    X_shortcut = X
    X = _conv_bn(X, F2, f, training)
    X = Add()([X, X_shortcut])
    X = Activation("relu")(X)
    return X
'''


def texts(*cells: str, name: str = "block", graded=("block",)) -> list[str]:
    parsed = parse(list(cells))
    _, canonical = function_units(name, parsed.definitions, frozenset(graded))
    return [u.text for u in canonical]


def test_the_canonical_form_reads_every_name_the_function_binds_as_v():
    assert texts(COURSE) == [
        "V = V",
        "V, V, V = V",
        "V = Conv2D(filters=V, kernel_size=V, padding='same')(V)",
        "V = BatchNormalization(axis=3)(V, training=V)",
        "V = Add()([V, V])",
        "V = Activation('relu')(V)",
        "return V",
    ]


def test_renames_comments_docstrings_quotes_spacing_and_swapped_independent_lines_change_nothing():
    assert texts(REWRITTEN) == texts(COURSE)


def test_an_extracted_helper_reads_as_if_written_in_place():
    assert texts(EXTRACTED + CALLER) == texts(COURSE)
    assert texts(CALLER, EXTRACTED) == texts(COURSE)  # the helper in a cell of its own, even a later one


def test_each_statement_keeps_where_it_was_written():
    parsed = parse([EXTRACTED + CALLER])
    _, canonical = function_units("block", parsed.definitions, frozenset({"block"}))
    conv = next(u for u in canonical if "Conv2D" in u.text)
    assert conv.where == "_conv_bn" and conv.lines == (3, 3)  # line 1 is the helper's def, 2 its docstring
    assert next(u for u in canonical if "Add" in u.text).where == "block"


@pytest.mark.parametrize("first, second", [
    ("a = g(x)\n    x = h(a)\n", "x = h(a)\n    a = g(x)\n"),  # reads what the other binds
    ("a = g(x)\n    a = h(x)\n", "a = h(x)\n    a = g(x)\n"),  # both bind a
    ("a = g(x)\n    print(x)\n    b = h(x)\n", "a = g(x)\n    b = h(x)\n    print(x)\n"),  # an effect keeps its place
])
def test_dependent_statements_and_effects_keep_their_order(first, second):
    template = "def block(x):\n    {}    return x\n"
    assert texts(template.format(first)) != texts(template.format(second))


@pytest.mark.parametrize("same", [
    ("X = layers.Conv2D(4, 1)(X)", "X = keras.layers.Conv2D(4, 1)(X)"),  # how a name is imported
    ("X += Y", "X = X + Y"),
    ("return Activation('relu')(X)", "X = Activation('relu')(X)\n    return X"),
    ("X = f(X)\n    pass", "X = f(X)\n    '''a comment as a string'''"),
])
def test_spellings_that_mean_the_same(same):
    template = "def block(X, Y):\n    {}\n    return X\n"
    assert texts(template.format(same[0])) == texts(template.format(same[1]))


@pytest.mark.parametrize("different", [
    ("X = Conv2D(filters=F)(X)", "X = Conv2D(F)(X)"),  # keyword or not: a choice of spelling
    ("X = Conv2D(4, 1)(X)", "X = Conv2D(4, 3)(X)"),  # a constant
    ("X = ReLU()(X)", "X = Activation('relu')(X)"),  # another layer
    ("X = Add()([X, Y])", "X = X + Y"),
    ("X = X.shape", "X = X.dtype"),  # attributes of a value stay
])
def test_spellings_that_differ(different):
    template = "def block(X, Y, F):\n    {}\n    return X\n"
    assert texts(template.format(different[0])) != texts(template.format(different[1]))


def test_a_recursive_helper_is_inlined_once_and_then_named():
    code = "def helper(x):\n    return helper(x - 1)\n\ndef block(x):\n    x = helper(x)\n    return x\n"
    assert texts(code) == ["V = F(V - 1)", "return V"]


def test_loops_and_branches_keep_their_structure():
    code = ("def block(x):\n    for i in range(3):\n        x = g(x)\n"
            "    if x:\n        x = h(x)\n    else:\n        x = k(x)\n    return x\n")
    assert texts(code) == ["for V in range(3):", "V = g(V)", "}", "if V:", "V = h(V)", "else:", "V = k(V)", "}",
                           "return V"]


def test_calls_to_graded_functions_stay_calls():
    code = "def identity_block(x):\n    return x\n\ndef ResNet50(x):\n    x = identity_block(x)\n    return x\n"
    assert texts(code, name="ResNet50", graded=("identity_block", "ResNet50")) == ["V = identity_block(V)", "return V"]


def test_starter_statements_are_found_in_order_and_where_they_moved():
    starter = ["V, V, V = V", "V = V", "V = Activation('relu')(V)", "return V"]
    written = parse(["def f(x, fs):\n    s = x\n    a, b, c = fs\n    x = Activation('relu')(x)\n"
                     "    x = Activation('relu')(x)\n    return x\n"]).definitions
    units, _ = function_units("f", written, frozenset({"f"}))
    matched = starter_positions(starter, units)
    assert sorted(units[i].text for i in matched) == sorted(starter)  # one of the two Activation lines, not both
    assert len(matched) == 4
