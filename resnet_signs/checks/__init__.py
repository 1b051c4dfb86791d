"""Student-facing checks: ``identity_block_test``, ``convolutional_block_test``, ``resnet50_test``.

They compare a student's functions with the reference's recorded behaviour and structure
and answer with one line: "✓ ... all checks passed." or an ``AssertionError`` holding one
"✗" hint. Keras is imported on first use, so importing this package stays cheap.
"""

_PUBLIC = ("identity_block_test", "convolutional_block_test", "resnet50_test")
__all__ = list(_PUBLIC)


def __getattr__(name):
    if name in _PUBLIC:
        from resnet_signs.checks import public

        return getattr(public, name)
    raise AttributeError(f"module 'resnet_signs.checks' has no attribute {name!r}")
