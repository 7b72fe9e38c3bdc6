"""The archive searched by meaning: stored articles' sentences embedded by the multilingual
encoder, indexed in the warehouse (index.py), and asked "which stored sentences say this,
in any language?" (search.py)."""
