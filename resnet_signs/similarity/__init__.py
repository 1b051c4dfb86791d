"""Similarity report: which submissions share their graded code, with each other or with collected solutions.

``resnet-signs similarity SUBMISSIONS --out OUT [--against DIR ...]`` (:mod:`.cli`) wraps
:func:`resnet_signs.similarity.api.compare`. The pipeline, one module per step:

1. :mod:`.sources`: a notebook's code cells and top-level functions (hostile input: nothing is run);
2. :mod:`.normalise`: each graded function, helpers inlined, as canonical statements;
3. :mod:`.documents`: the starter code left out, the rest fingerprinted (:mod:`.fingerprints`);
4. :mod:`.scores`: every pair scored, common fragments counting less;
5. :mod:`.report`: ``similarity.csv`` and ``similarity.html``.

Runs without TensorFlow or Keras, and sends nothing anywhere.
"""
